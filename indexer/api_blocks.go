package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	iotago "github.com/iotaledger/iota.go/v3"
)

// Tagged block routes: /tags/{tag}/blocks, /blocks/{id} and its metadata.

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
	limit, after, err := parsePage(q, -1)
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
	body.Next = nextCursor(next)
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
