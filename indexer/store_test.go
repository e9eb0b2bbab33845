package main

import (
	"errors"
	"testing"

	iotago "github.com/iotaledger/iota.go/v3"
)

func testStore(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	return s
}

func outID(tx byte, index uint16) iotago.OutputID {
	return iotago.OutputIDFromTransactionIDAndIndex(iotago.TransactionID{tx}, index)
}

func created(id iotago.OutputID, booked uint32, out iotago.Output) LedgerOutput {
	return LedgerOutput{ID: id, BlockID: iotago.BlockID{id[0]}, MilestoneIndexBooked: booked, MilestoneTimestampBooked: 1000 + booked, Output: out}
}

func consumed(lo LedgerOutput, by byte, at uint32) LedgerSpent {
	return LedgerSpent{LedgerOutput: lo, TransactionIDSpent: iotago.TransactionID{by}, MilestoneIndexSpent: at, MilestoneTimestampSpent: 1000 + at}
}

func milestone(index uint32) MilestoneSummary {
	return MilestoneSummary{Index: index, MilestoneID: iotago.EncodeHex([]byte{byte(index)}), Timestamp: 1000 + index}
}

func owned(addr iotago.Address, amount uint64) iotago.Output {
	return basic(amount, &iotago.AddressUnlockCondition{Address: addr})
}

func listed(t *testing.T, s *Store, addr iotago.Address, unspent bool) map[string]AddressOutput {
	t.Helper()
	items, next, err := s.AddressOutputs(keyOf(addr), unspent, nil, maxLimit)
	if err != nil || next != nil {
		t.Fatalf("AddressOutputs: %v next=%x", err, next)
	}
	m := map[string]AddressOutput{}
	for _, it := range items {
		m[it.Record.OutputID] = it
	}

	return m
}

func TestApplyMilestoneIndexesOutputsUnderOwnerAndReturnAddresses(t *testing.T) {
	s := testStore(t, t.TempDir())
	payer, payee := ed(1), ed(2)
	pay := created(outID(10, 0), 5, basic(60_000,
		&iotago.AddressUnlockCondition{Address: payee},
		&iotago.StorageDepositReturnUnlockCondition{ReturnAddress: payer, Amount: 50_000},
	))
	change := created(outID(10, 1), 5, owned(payer, 9_000_000))
	if err := s.ApplyMilestone(&MilestoneUpdate{Summary: milestone(5), Created: []LedgerOutput{pay, change}}); err != nil {
		t.Fatal(err)
	}

	forPayee := listed(t, s, payee, true)
	if len(forPayee) != 1 || forPayee[pay.ID.ToHex()].Roles != RoleAddress {
		t.Fatalf("payee sees %v", forPayee)
	}
	forPayer := listed(t, s, payer, true)
	if len(forPayer) != 2 || forPayer[pay.ID.ToHex()].Roles != RoleStorageDepositReturn || forPayer[change.ID.ToHex()].Roles != RoleAddress {
		t.Fatalf("payer sees %v", forPayer)
	}
	rec := forPayee[pay.ID.ToHex()].Record
	if rec.MilestoneIndexBooked != 5 || rec.Spent != nil || rec.BlockID != pay.BlockID.ToHex() {
		t.Fatalf("record = %+v", rec)
	}
	if decoded, err := outputFromJSON(rec.Output); err != nil || decoded.Deposit() != 60_000 {
		t.Fatalf("stored output JSON: %v %v", decoded, err)
	}
	if cursor, ok, _ := s.Cursor(); !ok || cursor != 5 {
		t.Fatalf("cursor = %d %v", cursor, ok)
	}
	if m, err := s.Milestone(5); err != nil || m.Timestamp != 1005 {
		t.Fatalf("milestone = %+v %v", m, err)
	}
}

func TestApplyMilestoneMarksSpendsIncludingSameMilestoneAndUnknownOutputs(t *testing.T) {
	s := testStore(t, t.TempDir())
	alice := ed(1)
	a := created(outID(1, 0), 1, owned(alice, 100))
	if err := s.ApplyMilestone(&MilestoneUpdate{Summary: milestone(1), Created: []LedgerOutput{a}}); err != nil {
		t.Fatal(err)
	}
	// milestone 2: a is spent into b, b is spent into c in the same milestone,
	// and g (booked before the indexer started) is spent too.
	b := created(outID(2, 0), 2, owned(alice, 100))
	c := created(outID(3, 0), 2, owned(alice, 100))
	g := created(outID(9, 0), 0, owned(alice, 7))
	err := s.ApplyMilestone(&MilestoneUpdate{
		Summary:  milestone(2),
		Created:  []LedgerOutput{b, c},
		Consumed: []LedgerSpent{consumed(a, 2, 2), consumed(b, 3, 2), consumed(g, 2, 2)},
	})
	if err != nil {
		t.Fatal(err)
	}

	all := listed(t, s, alice, false)
	if len(all) != 4 {
		t.Fatalf("want 4 outputs, got %d", len(all))
	}
	for _, spent := range []LedgerOutput{a, b, g} {
		rec := all[spent.ID.ToHex()].Record
		if rec.Spent == nil || rec.Spent.MilestoneIndex != 2 {
			t.Fatalf("%s not marked spent: %+v", spent.ID.ToHex(), rec.Spent)
		}
	}
	if rec := all[a.ID.ToHex()].Record; rec.Spent.TransactionID != (iotago.TransactionID{2}).ToHex() {
		t.Fatalf("spending transaction = %s", rec.Spent.TransactionID)
	}
	unspent := listed(t, s, alice, true)
	if len(unspent) != 1 || unspent[c.ID.ToHex()].Record == nil {
		t.Fatalf("unspent = %v", unspent)
	}
}

func TestApplyMilestoneRefusesAnythingButTheNextMilestone(t *testing.T) {
	s := testStore(t, t.TempDir())
	if err := s.ApplyMilestone(&MilestoneUpdate{Summary: milestone(7)}); err != nil {
		t.Fatal(err)
	}
	for _, index := range []uint32{7, 6, 9} {
		err := s.ApplyMilestone(&MilestoneUpdate{Summary: milestone(index), Created: []LedgerOutput{created(outID(1, 0), index, owned(ed(1), 1))}})
		if !errors.Is(err, errOutOfOrder) {
			t.Fatalf("milestone %d after 7: err = %v", index, err)
		}
	}
	if got := listed(t, s, ed(1), false); len(got) != 0 {
		t.Fatal("a refused milestone must change nothing")
	}
	if cursor, _, _ := s.Cursor(); cursor != 7 {
		t.Fatalf("cursor = %d", cursor)
	}
}

func TestStoreResumesAfterReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	blk := &TaggedBlock{BlockID: (iotago.BlockID{3}).ToHex(), MilestoneIndex: 3, Tag: "0x01", Block: []byte(`{"protocolVersion":2}`), id: iotago.BlockID{3}, tag: []byte("tanglewatt/pay/v1")}
	if err := s.ApplyMilestone(&MilestoneUpdate{Summary: milestone(3), Created: []LedgerOutput{created(outID(1, 0), 3, owned(ed(1), 5))}, Blocks: []*TaggedBlock{blk}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetNetwork("watt"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = testStore(t, dir)
	if cursor, ok, _ := s.Cursor(); !ok || cursor != 3 {
		t.Fatalf("cursor after reopen = %d %v", cursor, ok)
	}
	if err := s.ApplyMilestone(&MilestoneUpdate{Summary: milestone(4)}); err != nil {
		t.Fatalf("the milestone after the cursor must apply: %v", err)
	}
	if got, err := s.Block(iotago.BlockID{3}); err != nil || string(got.Block) != `{"protocolVersion":2}` {
		t.Fatalf("block after reopen: %v %v", got, err)
	}
	if len(listed(t, s, ed(1), true)) != 1 {
		t.Fatal("output lost on reopen")
	}
	if err := s.SetNetwork("rms"); err == nil {
		t.Fatal("a store of one network must refuse another")
	}
}

func TestTagBlocksByPrefixMilestoneAndPage(t *testing.T) {
	s := testStore(t, t.TempDir())
	add := func(index uint32, id byte, tag string) {
		blk := &TaggedBlock{BlockID: (iotago.BlockID{id}).ToHex(), MilestoneIndex: index, Block: []byte(`{}`), id: iotago.BlockID{id}, tag: []byte(tag)}
		if err := s.ApplyMilestone(&MilestoneUpdate{Summary: milestone(index), Blocks: []*TaggedBlock{blk}}); err != nil {
			t.Fatal(err)
		}
	}
	add(1, 1, "tanglewatt/pay/v1")
	add(2, 2, "tanglewatt/market/v1")
	add(3, 3, "tanglewatt/pay/v1")
	add(4, 4, "tw/ch/v1/abc")
	add(5, 5, "tanglewatt/pay/v1")

	ids := func(items []*TaggedBlock) []byte {
		var out []byte
		for _, it := range items {
			id, _ := iotago.BlockIDFromHexString(it.BlockID)
			out = append(out, id[0])
		}
		return out
	}

	items, next, err := s.TagBlocks([]byte("tanglewatt/pay/v1"), 0, nil, 10)
	if err != nil || string(ids(items)) != string([]byte{1, 3, 5}) || next != nil {
		t.Fatalf("exact tag: %v %x %v", ids(items), next, err)
	}
	if items[0].Block != nil {
		t.Fatal("listings carry metadata only")
	}
	items, _, _ = s.TagBlocks([]byte("tanglewatt/"), 0, nil, 10)
	if string(ids(items)) != string([]byte{2, 1, 3, 5}) {
		t.Fatalf("prefix (ordered by tag, then milestone): %v", ids(items))
	}
	items, _, _ = s.TagBlocks([]byte("tanglewatt/pay/v1"), 3, nil, 10)
	if string(ids(items)) != string([]byte{3, 5}) {
		t.Fatalf("from 3: %v", ids(items))
	}

	items, next, _ = s.TagBlocks([]byte("tanglewatt/pay/v1"), 0, nil, 2)
	if string(ids(items)) != string([]byte{1, 3}) || next == nil {
		t.Fatalf("page 1: %v next=%x", ids(items), next)
	}
	items, next, _ = s.TagBlocks([]byte("tanglewatt/pay/v1"), 0, next, 2)
	if string(ids(items)) != string([]byte{5}) || next != nil {
		t.Fatalf("page 2: %v next=%x", ids(items), next)
	}
}

func TestAddressOutputsPages(t *testing.T) {
	s := testStore(t, t.TempDir())
	addr := ed(1)
	for i := uint32(1); i <= 5; i++ {
		if err := s.ApplyMilestone(&MilestoneUpdate{Summary: milestone(i), Created: []LedgerOutput{created(outID(byte(i), 0), i, owned(addr, uint64(i)))}}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []uint32
	var after []byte
	for page := 0; page < 5; page++ {
		items, next, err := s.AddressOutputs(keyOf(addr), false, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			seen = append(seen, it.Record.MilestoneIndexBooked)
		}
		if next == nil {
			break
		}
		after = next
	}
	if len(seen) != 5 || seen[0] != 1 || seen[4] != 5 {
		t.Fatalf("pages gave bookings %v", seen)
	}
}

func TestResyncAfterPruningRecordsTheGapAndRepairsOutputs(t *testing.T) {
	s := testStore(t, t.TempDir())
	alice := ed(1)
	kept := created(outID(1, 0), 1, owned(alice, 1))
	spentInGap := created(outID(2, 0), 1, owned(alice, 2))
	spentAfter := created(outID(3, 0), 1, owned(alice, 3))
	if err := s.ApplyMilestone(&MilestoneUpdate{Summary: milestone(1), Created: []LedgerOutput{kept, spentInGap, spentAfter}}); err != nil {
		t.Fatal(err)
	}

	// The indexer was down while the node confirmed 2..20 and pruned up to 10.
	// spentInGap was spent at 8 (pruned), spentAfter at 15; createdInGap was
	// booked at 6, createdAfter at 12. Unspent at the node's ledger index 20:
	createdInGap := created(outID(4, 0), 6, owned(alice, 4))
	createdAfter := created(outID(5, 0), 12, owned(alice, 5))
	gap, err := s.Resync([]LedgerOutput{kept, createdInGap, createdAfter}, 10, "test")
	if err != nil {
		t.Fatal(err)
	}
	if gap == nil || gap.From != 2 || gap.To != 10 {
		t.Fatalf("gap = %+v", gap)
	}
	if cursor, _, _ := s.Cursor(); cursor != 10 {
		t.Fatalf("cursor = %d", cursor)
	}
	unspent := listed(t, s, alice, true)
	if len(unspent) != 3 || unspent[kept.ID.ToHex()].Record == nil || unspent[createdInGap.ID.ToHex()].Record == nil || unspent[createdAfter.ID.ToHex()].Record == nil {
		t.Fatalf("unspent after resync = %v", unspent)
	}
	all := listed(t, s, alice, false)
	if rec := all[spentInGap.ID.ToHex()].Record; rec.Spent == nil || rec.Spent.MilestoneIndex != 0 {
		t.Fatalf("an output spent in pruned milestones is spent in unknown milestone 0: %+v", rec.Spent)
	}

	// Replaying the milestones the node still has: 11 (nothing), 12 creates createdAfter
	// again, 15 spends spentAfter; the replay must fill in the exact spend.
	for i := uint32(11); i <= 15; i++ {
		u := &MilestoneUpdate{Summary: milestone(i)}
		switch i {
		case 12:
			u.Created = []LedgerOutput{createdAfter}
		case 15:
			u.Consumed = []LedgerSpent{consumed(spentAfter, 15, 15)}
		}
		if err := s.ApplyMilestone(u); err != nil {
			t.Fatal(err)
		}
	}
	all = listed(t, s, alice, false)
	if rec := all[spentAfter.ID.ToHex()].Record; rec.Spent == nil || rec.Spent.MilestoneIndex != 15 {
		t.Fatalf("replayed spend = %+v", rec.Spent)
	}
	if rec := all[createdAfter.ID.ToHex()].Record; rec.Spent != nil {
		t.Fatal("re-creating an output on replay must keep it unspent")
	}
	gaps, _ := s.Gaps()
	if len(gaps) != 1 || gaps[0].To != 10 {
		t.Fatalf("gaps = %+v", gaps)
	}

	// A second resync with nothing pruned beyond the cursor records no gap and keeps the cursor.
	if gap, err := s.Resync([]LedgerOutput{kept, createdInGap, createdAfter}, 10, "test"); err != nil || gap != nil {
		t.Fatalf("resync within history: %+v %v", gap, err)
	}
	if cursor, _, _ := s.Cursor(); cursor != 15 {
		t.Fatalf("cursor moved back to %d", cursor)
	}
	if rec := listed(t, s, alice, false)[spentAfter.ID.ToHex()].Record; rec.Spent.MilestoneIndex != 15 {
		t.Fatal("a known spend must not be replaced by an unknown one")
	}
}

func TestFirstResyncOnAFreshNodeRecordsNoGap(t *testing.T) {
	s := testStore(t, t.TempDir())
	genesis := created(outID(0, 0), 0, owned(ed(1), 1_000_000))
	gap, err := s.Resync([]LedgerOutput{genesis}, 0, "first start")
	if err != nil || gap != nil {
		t.Fatalf("gap = %+v err = %v", gap, err)
	}
	if cursor, ok, _ := s.Cursor(); !ok || cursor != 0 {
		t.Fatalf("cursor = %d %v", cursor, ok)
	}
	if err := s.ApplyMilestone(&MilestoneUpdate{Summary: milestone(1)}); err != nil {
		t.Fatalf("milestone 1 after a fresh start: %v", err)
	}
	if len(listed(t, s, ed(1), true)) != 1 {
		t.Fatal("genesis output missing")
	}
}
