package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble"

	iotago "github.com/iotaledger/iota.go/v3"
)

// Reads of the store: the cursor, the network, and lookups and paged scans
// by milestone, output, block, address and tag.

// Cursor is the last milestone fully indexed; ok is false before the first run.
func (s *Store) Cursor() (index uint32, ok bool, err error) {
	v, err := get(s.db, []byte{tableCursor})
	if errors.Is(err, errNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if len(v) != 4 {
		return 0, false, fmt.Errorf("store cursor is %d bytes, not 4", len(v))
	}

	return binary.BigEndian.Uint32(v), true, nil
}

// Network is the bech32 HRP the stored data belongs to ("" before the first run).
func (s *Store) Network() (string, error) {
	v, err := get(s.db, []byte{tableNetwork})
	if errors.Is(err, errNotFound) {
		return "", nil
	}

	return string(v), err
}

// Milestone returns a stored milestone summary.
func (s *Store) Milestone(index uint32) (*MilestoneSummary, error) {
	var m MilestoneSummary
	if err := getJSON(s.db, key(tableMilestone, u32(index)), &m); err != nil {
		return nil, err
	}

	return &m, nil
}

// Output returns a stored output.
func (s *Store) Output(id iotago.OutputID) (*OutputRecord, error) {
	var rec OutputRecord
	if err := getJSON(s.db, key(tableOutput, id[:]), &rec); err != nil {
		return nil, err
	}

	return &rec, nil
}

// Block returns a stored tagged block.
func (s *Store) Block(id iotago.BlockID) (*TaggedBlock, error) {
	var blk TaggedBlock
	if err := getJSON(s.db, key(tableBlock, id[:]), &blk); err != nil {
		return nil, err
	}

	return &blk, nil
}

// Gaps lists the milestone ranges the indexer never saw, oldest first.
func (s *Store) Gaps() ([]Gap, error) {
	gaps := []Gap{}
	err := s.scan([]byte{tableGap}, nil, func(_, v []byte) (bool, error) {
		var g Gap
		if err := json.Unmarshal(v, &g); err != nil {
			return false, err
		}
		gaps = append(gaps, g)

		return true, nil
	})

	return gaps, err
}

// AddressOutputs lists outputs naming the address, oldest booking first. after
// is the page cursor a previous call returned as next (nil for the first
// page); next is nil on the last page.
func (s *Store) AddressOutputs(addr addressKey, unspentOnly bool, after []byte, limit int) (items []AddressOutput, next []byte, err error) {
	prefix := key(tableAddress, addr[:])
	items = []AddressOutput{}
	var last []byte
	more := false
	err = s.scan(prefix, after, func(k, v []byte) (bool, error) {
		var id iotago.OutputID
		copy(id[:], k[len(k)-outputIDLen:])
		rec, err := s.Output(id)
		if err != nil {
			return false, fmt.Errorf("output %s listed under an address: %w", id.ToHex(), err)
		}
		if unspentOnly && rec.Spent != nil {
			return true, nil
		}
		if len(items) == limit {
			more = true
			return false, nil
		}
		items = append(items, AddressOutput{Record: rec, Roles: Role(v[0])})
		last = bytes.Clone(k[len(prefix):])

		return true, nil
	})
	if more {
		next = last
	}

	return items, next, err
}

// TagBlocks lists stored blocks whose tag starts with prefix, ordered by tag,
// then milestone, then block ID, skipping blocks before milestone from. after
// is the next value of the previous page (the key without its table byte).
func (s *Store) TagBlocks(prefix []byte, from uint32, after []byte, limit int) (items []*TaggedBlock, next []byte, err error) {
	items = []*TaggedBlock{}
	tablePrefix := key(tableTag, prefix)
	var last []byte
	more := false
	err = s.scan(tablePrefix, afterRelative(prefix, after), func(k, _ []byte) (bool, error) {
		if len(k) < 1+tagSuffixLen {
			return false, fmt.Errorf("malformed tag key %x", k)
		}
		tail := k[len(k)-tagSuffixLen:]
		if binary.BigEndian.Uint32(tail[:4]) < from {
			return true, nil
		}
		if len(items) == limit {
			more = true
			return false, nil
		}
		var id iotago.BlockID
		copy(id[:], tail[4:])
		blk, err := s.Block(id)
		if err != nil {
			return false, fmt.Errorf("block %s listed under a tag: %w", id.ToHex(), err)
		}
		blk.Block = nil
		items = append(items, blk)
		last = bytes.Clone(k[1:])

		return true, nil
	})
	if more {
		next = last
	}

	return items, next, err
}

// afterRelative turns a page cursor (the key after the table byte) into the
// part after the queried prefix, or nil when it does not belong to that prefix.
func afterRelative(prefix, after []byte) []byte {
	if after == nil || !bytes.HasPrefix(after, prefix) {
		return nil
	}

	return after[len(prefix):]
}

// scan visits keys under prefix in order, starting after prefix+after when
// after is given, until visit returns false.
func (s *Store) scan(prefix, after []byte, visit func(k, v []byte) (bool, error)) error {
	lower := prefix
	if after != nil {
		// the smallest key greater than prefix+after.
		lower = append(append(bytes.Clone(prefix), after...), 0)
	}
	iter, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer iter.Close()
	for iter.First(); iter.Valid(); iter.Next() {
		more, err := visit(iter.Key(), iter.Value())
		if err != nil || !more {
			return err
		}
	}

	return iter.Error()
}
