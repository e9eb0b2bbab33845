package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/cockroachdb/pebble"

	iotago "github.com/iotaledger/iota.go/v3"
)

// Key layout. Integers are big-endian so keys sort by milestone; every key
// starts with one byte naming its table.
//
//	c                                        → cursor: last milestone fully indexed (u32)
//	n                                        → network: bech32 HRP the data belongs to
//	m <index u32>                            → MilestoneSummary (JSON)
//	o <outputID 34>                          → OutputRecord (JSON)
//	u <outputID 34>                          → present while the output is unspent
//	a <address 33> <booked u32> <outputID 34> → Role bitmask (1 byte)
//	t <tag 0-64> <milestone u32> <blockID 32> → present (tag bytes are recovered from the fixed-size tail)
//	b <blockID 32>                           → TaggedBlock (JSON, with the block as HORNET serves it)
//	g <from u32> <to u32>                    → Gap (JSON): milestones the node pruned before they were indexed
//
// The cursor is written in the same batch as a milestone's data, so after a
// crash the store holds every milestone up to the cursor and nothing after it.
const (
	tableCursor    = 'c'
	tableNetwork   = 'n'
	tableMilestone = 'm'
	tableOutput    = 'o'
	tableUnspent   = 'u'
	tableAddress   = 'a'
	tableTag       = 't'
	tableBlock     = 'b'
	tableGap       = 'g'
)

const (
	outputIDLen  = iotago.OutputIDLength
	blockIDLen   = iotago.BlockIDLength
	addressLen   = len(addressKey{})
	tagSuffixLen = 4 + blockIDLen
)

var (
	errNotFound = errors.New("not found")
	// errOutOfOrder means a milestone was offered that does not follow the cursor.
	errOutOfOrder = errors.New("milestone out of order")
)

// Store is the indexer's pebble database.
type Store struct {
	db *pebble.DB
}

func openStore(dir string) (*Store, error) {
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", dir, err)
	}

	return &Store{db: db}, nil
}

func (s *Store) Close() error { return s.db.Close() }

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func key(table byte, parts ...[]byte) []byte {
	k := []byte{table}
	for _, p := range parts {
		k = append(k, p...)
	}

	return k
}

// reader is what pebble's DB and indexed Batch share for point reads.
type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

func get(r reader, k []byte) ([]byte, error) {
	v, closer, err := r.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()

	return bytes.Clone(v), nil
}

func getJSON(r reader, k []byte, into any) error {
	v, err := get(r, k)
	if err != nil {
		return err
	}

	return json.Unmarshal(v, into)
}

func setJSON(b *pebble.Batch, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}

	return b.Set(k, data, nil)
}

// prefixEnd is the first key after every key starting with prefix.
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}

	return nil
}

// quietLogger keeps pebble's informational chatter out of the log; errors still surface as returned errors.
type quietLogger struct{}

func (quietLogger) Infof(string, ...interface{}) {}
func (quietLogger) Errorf(format string, args ...interface{}) {
	fmt.Printf("store: "+format+"\n", args...)
}
func (quietLogger) Fatalf(format string, args ...interface{}) {
	panic(fmt.Sprintf("store: "+format, args...))
}
