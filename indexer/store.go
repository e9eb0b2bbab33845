package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

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

// MilestoneSummary is what the indexer keeps of a confirmed milestone.
type MilestoneSummary struct {
	Index               uint32 `json:"index"`
	MilestoneID         string `json:"milestoneId"`
	Timestamp           uint32 `json:"timestamp"`
	PreviousMilestoneID string `json:"previousMilestoneId"`
	BlocksReferenced    int    `json:"blocksReferenced"`
	CreatedOutputs      int    `json:"createdOutputs"`
	ConsumedOutputs     int    `json:"consumedOutputs"`
	TaggedBlocks        int    `json:"taggedBlocks"`
}

// Spent says how an output was consumed. MilestoneIndex 0 means it was spent
// in milestones the node had pruned before the indexer saw them.
type Spent struct {
	TransactionID      string `json:"transactionId,omitempty"`
	MilestoneIndex     uint32 `json:"milestoneIndex"`
	MilestoneTimestamp uint32 `json:"milestoneTimestamp"`
}

// OutputRecord is a stored output: the output as HORNET's REST API shows it
// plus where it was booked and, once consumed, where it was spent.
type OutputRecord struct {
	OutputID                 string          `json:"outputId"`
	BlockID                  string          `json:"blockId"`
	MilestoneIndexBooked     uint32          `json:"milestoneIndexBooked"`
	MilestoneTimestampBooked uint32          `json:"milestoneTimestampBooked"`
	Output                   json.RawMessage `json:"output"`
	Spent                    *Spent          `json:"spent,omitempty"`
}

// TaggedBlock is a block carrying tagged data with a wanted tag, kept with the
// block itself so readers can still parse it after the node pruned it.
type TaggedBlock struct {
	BlockID              string   `json:"blockId"`
	MilestoneIndex       uint32   `json:"milestoneIndex"`
	MilestoneTimestamp   uint32   `json:"milestoneTimestamp"`
	Tag                  string   `json:"tag"`
	Data                 string   `json:"data"`
	LedgerInclusionState string   `json:"ledgerInclusionState"`
	TransactionID        string   `json:"transactionId,omitempty"`
	OutputIDs            []string `json:"outputIds,omitempty"`
	// Block is the block's JSON exactly as HORNET's /api/core/v2/blocks/{id} serves it.
	Block json.RawMessage `json:"block,omitempty"`

	id  iotago.BlockID
	tag []byte
}

// Gap is a range of milestones the node pruned before the indexer read them.
type Gap struct {
	From     uint32 `json:"from"`
	To       uint32 `json:"to"`
	Reason   string `json:"reason"`
	Recorded string `json:"recorded"`
}

// LedgerOutput is an output as the node's ledger reports it.
type LedgerOutput struct {
	ID                       iotago.OutputID
	BlockID                  iotago.BlockID
	MilestoneIndexBooked     uint32
	MilestoneTimestampBooked uint32
	Output                   iotago.Output
}

// LedgerSpent is a consumed output and where it was spent.
type LedgerSpent struct {
	LedgerOutput
	TransactionIDSpent      iotago.TransactionID
	MilestoneIndexSpent     uint32
	MilestoneTimestampSpent uint32
}

// MilestoneUpdate is everything one milestone changes, applied in one batch.
type MilestoneUpdate struct {
	Summary  MilestoneSummary
	Created  []LedgerOutput
	Consumed []LedgerSpent
	Blocks   []*TaggedBlock
}

// AddressOutput is one output listed under an address.
type AddressOutput struct {
	Record *OutputRecord
	Roles  Role
}

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

// SetNetwork records the network once; a store is never reused for another one.
func (s *Store) SetNetwork(hrp string) error {
	current, err := s.Network()
	switch {
	case err != nil:
		return err
	case current == hrp:
		return nil
	case current != "":
		return fmt.Errorf("the store holds network %q but the node serves %q: use another --db", current, hrp)
	}

	return s.db.Set([]byte{tableNetwork}, []byte(hrp), pebble.Sync)
}

// ApplyMilestone writes one milestone's changes and moves the cursor to it, all
// in one synced batch. The milestone must be the one right after the cursor.
func (s *Store) ApplyMilestone(u *MilestoneUpdate) error {
	cursor, ok, err := s.Cursor()
	if err != nil {
		return err
	}
	if ok && u.Summary.Index != cursor+1 {
		return fmt.Errorf("%w: milestone %d offered, the store is at %d", errOutOfOrder, u.Summary.Index, cursor)
	}

	b := s.db.NewIndexedBatch()
	defer b.Close()
	// created first: an output can be created and consumed in the same milestone.
	for i := range u.Created {
		if err := putOutput(b, &u.Created[i]); err != nil {
			return err
		}
	}
	for i := range u.Consumed {
		c := &u.Consumed[i]
		spent := &Spent{TransactionID: c.TransactionIDSpent.ToHex(), MilestoneIndex: c.MilestoneIndexSpent, MilestoneTimestamp: c.MilestoneTimestampSpent}
		if err := markSpent(b, &c.LedgerOutput, spent); err != nil {
			return err
		}
	}
	for _, block := range u.Blocks {
		if err := setJSON(b, key(tableBlock, block.id[:]), block); err != nil {
			return err
		}
		if err := b.Set(key(tableTag, block.tag, u32(block.MilestoneIndex), block.id[:]), nil, nil); err != nil {
			return err
		}
	}
	if err := setJSON(b, key(tableMilestone, u32(u.Summary.Index)), &u.Summary); err != nil {
		return err
	}
	if err := b.Set([]byte{tableCursor}, u32(u.Summary.Index), nil); err != nil {
		return err
	}

	return b.Commit(pebble.Sync)
}

// outputRecordOf is the stored (and streamed) form of a ledger output.
func outputRecordOf(lo *LedgerOutput, spent *Spent) (*OutputRecord, error) {
	outputJSON, err := json.Marshal(lo.Output)
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", lo.ID.ToHex(), err)
	}

	return &OutputRecord{
		OutputID:                 lo.ID.ToHex(),
		BlockID:                  lo.BlockID.ToHex(),
		MilestoneIndexBooked:     lo.MilestoneIndexBooked,
		MilestoneTimestampBooked: lo.MilestoneTimestampBooked,
		Output:                   outputJSON,
		Spent:                    spent,
	}, nil
}

// putOutput stores an output and indexes it under its addresses. A spent mark
// already stored is kept: creation never makes an output unspent again.
func putOutput(b *pebble.Batch, lo *LedgerOutput) error {
	var existing OutputRecord
	err := getJSON(b, key(tableOutput, lo.ID[:]), &existing)
	if err != nil && !errors.Is(err, errNotFound) {
		return err
	}
	rec, err := outputRecordOf(lo, existing.Spent)
	if err != nil {
		return err
	}
	if err := setJSON(b, key(tableOutput, lo.ID[:]), rec); err != nil {
		return err
	}
	if rec.Spent == nil {
		if err := b.Set(key(tableUnspent, lo.ID[:]), nil, nil); err != nil {
			return err
		}
	}
	for addr, role := range outputRoles(lo.Output) {
		if err := b.Set(key(tableAddress, addr[:], u32(lo.MilestoneIndexBooked), lo.ID[:]), []byte{byte(role)}, nil); err != nil {
			return err
		}
	}

	return nil
}

// markSpent records a consumption, storing the output first when the indexer
// never saw it created (booked before the indexer's first milestone).
func markSpent(b *pebble.Batch, lo *LedgerOutput, spent *Spent) error {
	var rec OutputRecord
	err := getJSON(b, key(tableOutput, lo.ID[:]), &rec)
	if errors.Is(err, errNotFound) {
		if err := putOutput(b, lo); err != nil {
			return err
		}
		err = getJSON(b, key(tableOutput, lo.ID[:]), &rec)
	}
	if err != nil {
		return err
	}
	// a known spend is never replaced by an unknown one.
	if rec.Spent != nil && rec.Spent.MilestoneIndex != 0 && spent.MilestoneIndex == 0 {
		return nil
	}
	rec.Spent = spent
	if err := setJSON(b, key(tableOutput, lo.ID[:]), &rec); err != nil {
		return err
	}

	return b.Delete(key(tableUnspent, lo.ID[:]), nil)
}

// Resync makes the stored outputs match the node's unspent set, taken at some
// ledger index at or after prunedTo: missing unspent outputs are added and
// outputs we hold as unspent that the node no longer has are marked spent in
// unknown milestones. The cursor moves to prunedTo if it was behind, and the
// skipped range is recorded as a gap. Diffs of milestones after prunedTo are
// replayed afterwards and fill in the exact spends.
func (s *Store) Resync(unspent []LedgerOutput, prunedTo uint32, reason string) (*Gap, error) {
	cursor, hasCursor, err := s.Cursor()
	if err != nil {
		return nil, err
	}

	held := map[iotago.OutputID]bool{}
	iter, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tableUnspent}, UpperBound: []byte{tableUnspent + 1}})
	if err != nil {
		return nil, err
	}
	for iter.First(); iter.Valid(); iter.Next() {
		var id iotago.OutputID
		copy(id[:], iter.Key()[1:])
		held[id] = true
	}
	if err := iter.Close(); err != nil {
		return nil, err
	}

	b := s.db.NewIndexedBatch()
	defer b.Close()
	for i := range unspent {
		delete(held, unspent[i].ID)
		if err := putOutput(b, &unspent[i]); err != nil {
			return nil, err
		}
	}
	for id := range held {
		id := id
		if err := markSpent(b, &LedgerOutput{ID: id}, &Spent{}); err != nil {
			return nil, err
		}
	}

	var gap *Gap
	if !hasCursor || cursor < prunedTo {
		from := cursor + 1
		if !hasCursor {
			from = 1
		}
		if from <= prunedTo {
			gap = &Gap{From: from, To: prunedTo, Reason: reason, Recorded: time.Now().UTC().Format(time.RFC3339)}
			if err := setJSON(b, key(tableGap, u32(gap.From), u32(gap.To)), gap); err != nil {
				return nil, err
			}
		}
		if err := b.Set([]byte{tableCursor}, u32(prunedTo), nil); err != nil {
			return nil, err
		}
	}

	return gap, b.Commit(pebble.Sync)
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
