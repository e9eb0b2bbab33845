package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	iotago "github.com/iotaledger/iota.go/v3"
)

// Output routes: /addresses/{bech32}/outputs and /outputs/{id}, and the JSON
// shape they share with HORNET.

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
	limit, after, err := parsePage(q, 4+outputIDLen)
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
	body.Next = nextCursor(next)
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
