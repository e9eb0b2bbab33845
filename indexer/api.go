package main

import (
	"bytes"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	iotago "github.com/iotaledger/iota.go/v3"
)

const (
	defaultLimit = 100
	maxLimit     = 1000
	keepAlive    = 15 * time.Second
)

// api serves the store read-only over HTTP.
type api struct {
	store  *Store
	events *broker
	node   *nodeView
	// token, when set, is required as "Authorization: Bearer <token>" on /api/ routes.
	token string
}

// badRequest is a client error: one line naming the field and what is allowed.
type badRequest struct{ msg string }

func (e badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return badRequest{fmt.Sprintf(format, args...)} }

func (a *api) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", a.get(a.health))
	mux.HandleFunc("/api/v1/", a.get(a.authorized(a.route)))

	return mux
}

func (a *api) get(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method: only GET is allowed, the indexer is read-only")
			return
		}
		next(w, r)
	}
}

func (a *api) authorized(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.token != "" {
			given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(given), []byte(a.token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="tanglewatt-indexer"`)
				writeError(w, http.StatusUnauthorized, "authorization: a valid bearer token is required")
				return
			}
		}
		next(w, r)
	}
}

// route dispatches /api/v1/... by hand: tags may contain slashes.
func (a *api) route(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.EscapedPath(), "/api/v1/")
	parts := strings.Split(path, "/")
	var err error
	switch {
	case len(parts) == 2 && parts[0] == "milestones":
		err = a.milestone(w, parts[1])
	case len(parts) == 3 && parts[0] == "addresses" && parts[2] == "outputs":
		err = a.addressOutputs(w, r, parts[1])
	case len(parts) == 2 && parts[0] == "outputs":
		err = a.output(w, parts[1])
	case len(parts) >= 3 && parts[0] == "tags" && parts[len(parts)-1] == "blocks":
		err = a.tagBlocks(w, r, strings.Join(parts[1:len(parts)-1], "/"))
	case len(parts) == 2 && parts[0] == "blocks":
		err = a.block(w, parts[1], false)
	case len(parts) == 3 && parts[0] == "blocks" && parts[2] == "metadata":
		err = a.block(w, parts[1], true)
	case len(parts) == 1 && parts[0] == "stream":
		err = a.stream(w, r)
	default:
		writeError(w, http.StatusNotFound, "path: no such route; see the indexer README for the API")
		return
	}
	var bad badRequest
	switch {
	case err == nil:
	case errors.As(err, &bad):
		writeError(w, http.StatusBadRequest, bad.msg)
	case errors.Is(err, errNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, "store: "+oneLine(err))
	}
}

type healthBody struct {
	Status                 string `json:"status"`
	Connected              bool   `json:"connected"`
	Network                string `json:"network,omitempty"`
	IndexedMilestone       uint32 `json:"indexedMilestone"`
	NodeConfirmedMilestone uint32 `json:"nodeConfirmedMilestone"`
	NodePruningIndex       uint32 `json:"nodePruningIndex"`
	Gaps                   []Gap  `json:"gaps"`
}

// health answers 200 while the node is connected, 503 otherwise; stored data
// stays readable either way.
func (a *api) health(w http.ResponseWriter, _ *http.Request) {
	cursor, _, err := a.store.Cursor()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store: "+oneLine(err))
		return
	}
	gaps, err := a.store.Gaps()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store: "+oneLine(err))
		return
	}
	node := a.node.snapshot()
	body := healthBody{Status: "ok", Connected: node.Connected, Network: node.HRP, IndexedMilestone: cursor,
		NodeConfirmedMilestone: node.Confirmed, NodePruningIndex: node.PruningIndex, Gaps: gaps}
	code := http.StatusOK
	if !node.Connected {
		body.Status, code = "disconnected", http.StatusServiceUnavailable
	}
	writeJSON(w, code, body)
}

func (a *api) milestone(w http.ResponseWriter, raw string) error {
	index, err := strconv.ParseUint(raw, 10, 32)
	if err != nil || index == 0 {
		return badf("index: %q is not a milestone index (1 to 4294967295)", raw)
	}
	m, err := a.store.Milestone(uint32(index))
	if errors.Is(err, errNotFound) {
		return fmt.Errorf("milestone %d is not indexed: %w", index, errNotFound)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)

	return nil
}

// outputBody mirrors HORNET's output response ({metadata, output}) so readers
// can reuse their parsing, plus the roles the queried address plays.
type outputBody struct {
	Metadata  outputMetadata  `json:"metadata"`
	Output    json.RawMessage `json:"output"`
	Roles     []string        `json:"roles,omitempty"`
	Change    string          `json:"change,omitempty"`
	Addresses []addressRoles  `json:"addresses,omitempty"`
}

type outputMetadata struct {
	BlockID                  string `json:"blockId"`
	TransactionID            string `json:"transactionId"`
	OutputIndex              uint16 `json:"outputIndex"`
	IsSpent                  bool   `json:"isSpent"`
	MilestoneIndexSpent      uint32 `json:"milestoneIndexSpent,omitempty"`
	MilestoneTimestampSpent  uint32 `json:"milestoneTimestampSpent,omitempty"`
	TransactionIDSpent       string `json:"transactionIdSpent,omitempty"`
	MilestoneIndexBooked     uint32 `json:"milestoneIndexBooked"`
	MilestoneTimestampBooked uint32 `json:"milestoneTimestampBooked"`
	OutputID                 string `json:"outputId"`
}

type addressRoles struct {
	Address string   `json:"address"`
	Roles   []string `json:"roles"`
}

func outputJSONBody(rec *OutputRecord, roles Role) *outputBody {
	id, _ := iotago.OutputIDFromHex(rec.OutputID)
	body := &outputBody{
		Metadata: outputMetadata{
			BlockID:                  rec.BlockID,
			TransactionID:            id.TransactionID().ToHex(),
			OutputIndex:              id.Index(),
			MilestoneIndexBooked:     rec.MilestoneIndexBooked,
			MilestoneTimestampBooked: rec.MilestoneTimestampBooked,
			OutputID:                 rec.OutputID,
		},
		Output: rec.Output,
	}
	if rec.Spent != nil {
		body.Metadata.IsSpent = true
		body.Metadata.MilestoneIndexSpent = rec.Spent.MilestoneIndex
		body.Metadata.MilestoneTimestampSpent = rec.Spent.MilestoneTimestamp
		body.Metadata.TransactionIDSpent = rec.Spent.TransactionID
	}
	if roles != 0 {
		body.Roles = roles.Names()
	}

	return body
}

// parseAddress accepts a bech32 address of the indexed network.
func (a *api) parseAddress(field, raw string) (addressKey, error) {
	hrp, addr, err := iotago.ParseBech32(raw)
	if err != nil {
		return addressKey{}, badf("%s: %q is not a bech32 address", field, raw)
	}
	if want := a.node.snapshot().HRP; want != "" && string(hrp) != want {
		return addressKey{}, badf("%s: %q is for network %q, this indexer serves %q", field, raw, hrp, want)
	}
	if len(addr.Key()) != addressLen {
		return addressKey{}, badf("%s: address type %d is not supported", field, addr.Type())
	}

	return keyOf(addr), nil
}

func (a *api) addressOutputs(w http.ResponseWriter, r *http.Request, rawAddr string) error {
	bech, err := url.PathUnescape(rawAddr)
	if err != nil {
		return badf("address: %q is not a bech32 address", rawAddr)
	}
	addr, err := a.parseAddress("address", bech)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	unspent := false
	if v := q.Get("unspent"); v != "" {
		if unspent, err = strconv.ParseBool(v); err != nil {
			return badf("unspent: %q is not true or false", v)
		}
	}
	limit, err := parseLimit(q.Get("limit"))
	if err != nil {
		return err
	}
	after, err := parseAfter(q.Get("after"), 4+outputIDLen)
	if err != nil {
		return err
	}
	items, next, err := a.store.AddressOutputs(addr, unspent, after, limit)
	if err != nil {
		return err
	}
	body := struct {
		Address string        `json:"address"`
		Items   []*outputBody `json:"items"`
		Next    string        `json:"next,omitempty"`
	}{Address: bech, Items: []*outputBody{}}
	for _, it := range items {
		body.Items = append(body.Items, outputJSONBody(it.Record, it.Roles))
	}
	if next != nil {
		body.Next = hex.EncodeToString(next)
	}
	writeJSON(w, http.StatusOK, body)

	return nil
}

func (a *api) output(w http.ResponseWriter, raw string) error {
	var id iotago.OutputID
	if err := decodeFixedHex(raw, id[:]); err != nil {
		return badf("outputId: %q is not a 0x-prefixed 34-byte hex output ID", raw)
	}
	rec, err := a.store.Output(id)
	if errors.Is(err, errNotFound) {
		return fmt.Errorf("output %s is not indexed: %w", raw, errNotFound)
	}
	if err != nil {
		return err
	}
	body := outputJSONBody(rec, 0)
	var output iotago.Output
	if output, err = outputFromJSON(rec.Output); err == nil {
		body.Addresses = addressesOf(output, iotago.NetworkPrefix(a.node.snapshot().HRP))
	}
	writeJSON(w, http.StatusOK, body)

	return nil
}

// parseTag reads a tag (prefix) given as 0x-hex or as UTF-8 text.
func parseTag(field, raw string) ([]byte, error) {
	var tag []byte
	if strings.HasPrefix(raw, "0x") {
		decoded, err := hex.DecodeString(raw[2:])
		if err != nil {
			return nil, badf("%s: %q is not valid hex after 0x", field, raw)
		}
		tag = decoded
	} else {
		tag = []byte(raw)
	}
	if len(tag) == 0 || len(tag) > iotago.MaxTagLength {
		return nil, badf("%s: must be 1 to %d bytes, got %d", field, iotago.MaxTagLength, len(tag))
	}

	return tag, nil
}

func (a *api) tagBlocks(w http.ResponseWriter, r *http.Request, rawTag string) error {
	unescaped, err := url.PathUnescape(rawTag)
	if err != nil {
		return badf("tag: %q is not a valid URL path segment", rawTag)
	}
	tag, err := parseTag("tag", unescaped)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var from uint32
	if v := q.Get("from"); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return badf("from: %q is not a milestone index (0 to 4294967295)", v)
		}
		from = uint32(n)
	}
	limit, err := parseLimit(q.Get("limit"))
	if err != nil {
		return err
	}
	after, err := parseAfter(q.Get("after"), -1)
	if err != nil {
		return err
	}
	items, next, err := a.store.TagBlocks(tag, from, after, limit)
	if err != nil {
		return err
	}
	body := struct {
		Tag   string         `json:"tag"`
		Items []*TaggedBlock `json:"items"`
		Next  string         `json:"next,omitempty"`
	}{Tag: iotago.EncodeHex(tag), Items: items}
	if next != nil {
		body.Next = hex.EncodeToString(next)
	}
	writeJSON(w, http.StatusOK, body)

	return nil
}

func (a *api) block(w http.ResponseWriter, raw string, metadataOnly bool) error {
	var id iotago.BlockID
	if err := decodeFixedHex(raw, id[:]); err != nil {
		return badf("blockId: %q is not a 0x-prefixed 32-byte hex block ID", raw)
	}
	blk, err := a.store.Block(id)
	if errors.Is(err, errNotFound) {
		return fmt.Errorf("block %s is not indexed (only blocks with a wanted tag are): %w", raw, errNotFound)
	}
	if err != nil {
		return err
	}
	if metadataOnly {
		blk.Block = nil
		writeJSON(w, http.StatusOK, blk)
		return nil
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(blk.Block)

	return nil
}

// stream serves server-sent events until the client goes away.
func (a *api) stream(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var f filter
	if v := q.Get("address"); v != "" {
		addr, err := a.parseAddress("address", v)
		if err != nil {
			return err
		}
		f.address = &addr
	}
	if v := q.Get("tag"); v != "" {
		tag, err := parseTag("tag", v)
		if err != nil {
			return err
		}
		f.tag = tag
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		return errors.New("streaming unsupported by the HTTP server")
	}
	sub := a.events.subscribe(f)
	defer a.events.unsubscribe(sub)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, ": connected\n\n")
	flusher.Flush()

	ticker := time.NewTicker(keepAlive)
	defer ticker.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-ticker.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
			flusher.Flush()
		case e, open := <-sub.ch:
			if !open {
				_, _ = fmt.Fprint(w, "event: error\ndata: {\"error\":\"stream: the reader fell behind; reconnect and catch up over REST\"}\n\n")
				flusher.Flush()
				return nil
			}
			if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.name, e.data); err != nil {
				return nil
			}
			flusher.Flush()
		}
	}
}

// decodeFixedHex fills into from 0x-prefixed hex of exactly its length.
func decodeFixedHex(raw string, into []byte) error {
	b, err := iotago.DecodeHex(raw)
	if err != nil {
		return err
	}
	if len(b) != len(into) {
		return fmt.Errorf("%d bytes, not %d", len(b), len(into))
	}
	copy(into, b)

	return nil
}

func parseLimit(raw string) (int, error) {
	if raw == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxLimit {
		return 0, badf("limit: %q is not a whole number from 1 to %d", raw, maxLimit)
	}

	return n, nil
}

// parseAfter decodes a page cursor (the next value of the previous page);
// size -1 accepts any length.
func parseAfter(raw string, size int) ([]byte, error) {
	if raw == "" {
		return nil, nil
	}
	b, err := hex.DecodeString(raw)
	if err != nil || (size >= 0 && len(b) != size) || len(b) == 0 {
		return nil, badf("after: %q is not a page cursor from a previous response's next", raw)
	}

	return b, nil
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// bech32Of turns a stored address key back into its bech32 form.
func bech32Of(k addressKey, hrp iotago.NetworkPrefix) string {
	addr, err := iotago.AddressSelector(uint32(k[0]))
	if err != nil {
		return iotago.EncodeHex(k[:])
	}
	switch a := addr.(type) {
	case *iotago.Ed25519Address:
		copy(a[:], k[1:])
	case *iotago.AliasAddress:
		copy(a[:], k[1:])
	case *iotago.NFTAddress:
		copy(a[:], k[1:])
	}

	return addr.Bech32(hrp)
}

// addressesOf lists an output's addresses and roles in address order.
func addressesOf(output iotago.Output, hrp iotago.NetworkPrefix) []addressRoles {
	roles := outputRoles(output)
	keys := make([]addressKey, 0, len(roles))
	for k := range roles {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i][:], keys[j][:]) < 0 })
	list := make([]addressRoles, 0, len(keys))
	for _, k := range keys {
		list = append(list, addressRoles{Address: bech32Of(k, hrp), Roles: roles[k].Names()})
	}

	return list
}

// outputFromJSON decodes an output stored in HORNET's JSON form.
func outputFromJSON(data []byte) (iotago.Output, error) {
	var head struct {
		Type uint32 `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, err
	}
	output, err := iotago.OutputSelector(head.Type)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, output); err != nil {
		return nil, err
	}

	return output, nil
}
