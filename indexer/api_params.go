package main

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"

	iotago "github.com/iotaledger/iota.go/v3"
)

// Query and path parameters: fixed-size hex IDs, page limits and page cursors.

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

// parsePage reads a list route's limit and its after cursor of afterSize bytes.
func parsePage(q url.Values, afterSize int) (limit int, after []byte, err error) {
	if limit, err = parseLimit(q.Get("limit")); err != nil {
		return 0, nil, err
	}
	if after, err = parseAfter(q.Get("after"), afterSize); err != nil {
		return 0, nil, err
	}

	return limit, after, nil
}

// nextCursor is a page's next value: the store's cursor in hex, "" on the last page.
func nextCursor(next []byte) string {
	if next == nil {
		return ""
	}

	return hex.EncodeToString(next)
}
