package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble"

	iotago "github.com/iotaledger/iota.go/v3"
)

// Writes to the store: the network, one milestone's changes in one synced
// batch, and a resync after the node pruned past the cursor.

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
