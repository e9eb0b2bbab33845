package main

import (
	"strings"
	"testing"

	iotago "github.com/iotaledger/iota.go/v3"
)

// BenchmarkApplyMilestone measures one milestone written as one synced batch:
// 20 payments (each a payee output with a storage deposit return and a change
// output), 20 consumed outputs and 20 tagged blocks.
func BenchmarkApplyMilestone(b *testing.B) {
	dir := b.TempDir()
	s, err := openStore(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// about the size of a payment block's JSON.
	blockJSON := []byte(`{"data":"` + strings.Repeat("ab", 600) + `"}`)
	var previous []LedgerOutput
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		index := uint32(n + 1)
		u := &MilestoneUpdate{Summary: milestone(index)}
		var made []LedgerOutput
		for p := 0; p < 20; p++ {
			tx := iotago.TransactionID{byte(n), byte(n >> 8), byte(n >> 16), byte(p)}
			payee := basic(60_000, &iotago.AddressUnlockCondition{Address: ed(byte(p))},
				&iotago.StorageDepositReturnUnlockCondition{ReturnAddress: ed(200), Amount: 50_000})
			made = append(made,
				created(iotago.OutputIDFromTransactionIDAndIndex(tx, 0), index, payee),
				created(iotago.OutputIDFromTransactionIDAndIndex(tx, 1), index, owned(ed(200), 1_000_000)))
			u.Blocks = append(u.Blocks, &TaggedBlock{BlockID: iotago.BlockID(tx).ToHex(), MilestoneIndex: index, Block: blockJSON, id: iotago.BlockID(tx), tag: []byte("tanglewatt/pay/v1")})
		}
		u.Created = made
		for i := 0; i < len(previous); i += 2 {
			u.Consumed = append(u.Consumed, consumed(previous[i+1], 1, index))
		}
		if err := s.ApplyMilestone(u); err != nil {
			b.Fatal(err)
		}
		previous = made
	}
}
