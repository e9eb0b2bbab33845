package main

import (
	"encoding/json"
	"reflect"
	"testing"

	inx "github.com/iotaledger/inx/go"
	iotago "github.com/iotaledger/iota.go/v3"
)

func ed(b byte) *iotago.Ed25519Address { return &iotago.Ed25519Address{b} }

func basic(amount uint64, conds ...iotago.UnlockCondition) *iotago.BasicOutput {
	return &iotago.BasicOutput{Amount: amount, Conditions: conds}
}

func TestOutputRolesListsOwnerAndBothReturnAddresses(t *testing.T) {
	owner, depositBack, expiryBack := ed(1), ed(2), ed(3)
	out := basic(1_000_000,
		&iotago.AddressUnlockCondition{Address: owner},
		&iotago.StorageDepositReturnUnlockCondition{ReturnAddress: depositBack, Amount: 50_000},
		&iotago.ExpirationUnlockCondition{ReturnAddress: expiryBack, UnixTime: 1_800_000_000},
	)

	got := outputRoles(out)
	want := map[addressKey]Role{
		keyOf(owner):       RoleAddress,
		keyOf(depositBack): RoleStorageDepositReturn,
		keyOf(expiryBack):  RoleExpirationReturn,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("roles = %v, want %v", got, want)
	}
}

func TestOutputRolesCombinesRolesOfOneAddress(t *testing.T) {
	payer, payee := ed(1), ed(2)
	// the usual micropayment shape: below the deposit, so the payer gets the deposit back
	// on spend, and gets the whole output back if the payee never claims it.
	out := basic(60_000,
		&iotago.AddressUnlockCondition{Address: payee},
		&iotago.StorageDepositReturnUnlockCondition{ReturnAddress: payer, Amount: 50_000},
		&iotago.ExpirationUnlockCondition{ReturnAddress: payer, UnixTime: 1_800_000_000},
	)

	got := outputRoles(out)
	if got[keyOf(payer)] != RoleStorageDepositReturn|RoleExpirationReturn {
		t.Fatalf("payer roles = %v", got[keyOf(payer)].Names())
	}
	if names := got[keyOf(payer)].Names(); !reflect.DeepEqual(names, []string{"storageDepositReturn", "expirationReturn"}) {
		t.Fatalf("names = %v", names)
	}
	if got[keyOf(payee)] != RoleAddress {
		t.Fatalf("payee roles = %v", got[keyOf(payee)].Names())
	}
}

func TestOutputRolesOfAliasAndFoundry(t *testing.T) {
	controller, governor := ed(7), ed(8)
	alias := &iotago.AliasOutput{Amount: 100_000, AliasID: iotago.AliasID{9}, Conditions: iotago.UnlockConditions{
		&iotago.StateControllerAddressUnlockCondition{Address: controller},
		&iotago.GovernorAddressUnlockCondition{Address: governor},
	}}
	got := outputRoles(alias)
	if got[keyOf(controller)] != RoleStateController || got[keyOf(governor)] != RoleGovernor || len(got) != 2 {
		t.Fatalf("alias roles = %v", got)
	}

	aliasAddr := iotago.AliasID{9}.ToAddress().(*iotago.AliasAddress)
	foundry := &iotago.FoundryOutput{Amount: 100_000, SerialNumber: 1, TokenScheme: &iotago.SimpleTokenScheme{},
		Conditions: iotago.UnlockConditions{&iotago.ImmutableAliasUnlockCondition{Address: aliasAddr}}}
	got = outputRoles(foundry)
	if got[keyOf(aliasAddr)] != RoleImmutableAlias || len(got) != 1 {
		t.Fatalf("foundry roles = %v", got)
	}
}

func TestKeyOfRoundTripsThroughBech32(t *testing.T) {
	for _, addr := range []iotago.Address{ed(0xab), iotago.AliasID{1, 2}.ToAddress(), iotago.NFTID{3}.ToAddress()} {
		if got, want := bech32Of(keyOf(addr), "watt"), addr.Bech32("watt"); got != want {
			t.Fatalf("bech32Of(keyOf(%s)) = %s, want %s", addr, got, want)
		}
	}
}

func taggedDataBlock(tag, data string) *iotago.Block {
	return &iotago.Block{ProtocolVersion: 2, Parents: iotago.BlockIDs{{1}}, Payload: &iotago.TaggedData{Tag: []byte(tag), Data: []byte(data)}}
}

func transactionBlock(tag, data string, outputs ...iotago.Output) (*iotago.Block, *iotago.Transaction) {
	tx := &iotago.Transaction{
		Essence: &iotago.TransactionEssence{
			NetworkID: 1,
			Inputs:    iotago.Inputs{&iotago.UTXOInput{TransactionID: iotago.TransactionID{5}, TransactionOutputIndex: 0}},
			Outputs:   outputs,
			Payload:   &iotago.TaggedData{Tag: []byte(tag), Data: []byte(data)},
		},
		Unlocks: iotago.Unlocks{&iotago.SignatureUnlock{Signature: &iotago.Ed25519Signature{}}},
	}

	return &iotago.Block{ProtocolVersion: 2, Parents: iotago.BlockIDs{{1}}, Payload: tx}, tx
}

func TestTaggedDataFindsOwnPayloadAndTransactionEssencePayload(t *testing.T) {
	got, txID, err := taggedData(taggedDataBlock("tanglewatt/market/v1", "{}"))
	if err != nil || got == nil || string(got.Tag) != "tanglewatt/market/v1" || txID != nil {
		t.Fatalf("tagged-data block: %v %v %v", got, txID, err)
	}

	block, tx := transactionBlock("tanglewatt/pay/v1", `{"payments":[]}`, basic(1, &iotago.AddressUnlockCondition{Address: ed(1)}))
	got, txID, err = taggedData(block)
	if err != nil || got == nil || string(got.Data) != `{"payments":[]}` {
		t.Fatalf("transaction block: %v %v", got, err)
	}
	wantID, _ := tx.ID()
	if txID == nil || *txID != wantID {
		t.Fatalf("transaction ID = %v, want %v", txID, wantID)
	}

	got, _, err = taggedData(&iotago.Block{ProtocolVersion: 2, Parents: iotago.BlockIDs{{1}}})
	if err != nil || got != nil {
		t.Fatalf("block without payload: %v %v", got, err)
	}
}

func TestTagWanted(t *testing.T) {
	prefixes := [][]byte{[]byte("tanglewatt/"), []byte("tw/ch/")}
	for tag, want := range map[string]bool{
		"tanglewatt/pay/v1":    true,
		"tanglewatt/market/v1": true,
		"tw/ch/v1/r/0a1b":      true,
		"tanglewat":            false,
		"other/tanglewatt/":    false,
		"":                     false,
	} {
		if got := tagWanted(prefixes, []byte(tag)); got != want {
			t.Errorf("tagWanted(%q) = %v, want %v", tag, got, want)
		}
	}
	if !tagWanted(nil, []byte("anything")) {
		t.Error("no prefixes must take every tag")
	}
}

func TestTaggedBlockKeepsHornetJSONAndNamesTheOutputs(t *testing.T) {
	block, tx := transactionBlock("tanglewatt/pay/v1", "desc",
		basic(1, &iotago.AddressUnlockCondition{Address: ed(1)}),
		basic(2, &iotago.AddressUnlockCondition{Address: ed(2)}))
	id := iotago.BlockID{0x42}
	meta := &inx.BlockMetadata{BlockId: inx.NewBlockId(id), LedgerInclusionState: inx.BlockMetadata_LEDGER_INCLUSION_STATE_INCLUDED}

	tb, err := taggedBlock(block, meta, 12, 1_700_000_000, [][]byte{[]byte("tanglewatt/")})
	if err != nil || tb == nil {
		t.Fatalf("taggedBlock: %v %v", tb, err)
	}
	txID, _ := tx.ID()
	wantOutputs := []string{
		iotago.OutputIDFromTransactionIDAndIndex(txID, 0).ToHex(),
		iotago.OutputIDFromTransactionIDAndIndex(txID, 1).ToHex(),
	}
	if !reflect.DeepEqual(tb.OutputIDs, wantOutputs) || tb.TransactionID != txID.ToHex() || tb.LedgerInclusionState != "included" {
		t.Fatalf("block record = %+v", tb)
	}
	if tb.Tag != iotago.EncodeHex([]byte("tanglewatt/pay/v1")) || tb.Data != iotago.EncodeHex([]byte("desc")) {
		t.Fatalf("tag/data = %s %s", tb.Tag, tb.Data)
	}
	// the stored JSON decodes back into the same block, as a reader of HORNET's JSON would.
	var decoded iotago.Block
	if err := json.Unmarshal(tb.Block, &decoded); err != nil {
		t.Fatalf("stored block JSON does not decode: %v", err)
	}
	decodedID, err := decoded.ID()
	if err != nil || decodedID != block.MustID() {
		t.Fatalf("stored block JSON decodes to a different block: %v", err)
	}

	meta.LedgerInclusionState = inx.BlockMetadata_LEDGER_INCLUSION_STATE_CONFLICTING
	tb, _ = taggedBlock(block, meta, 12, 1_700_000_000, nil)
	if tb.LedgerInclusionState != "conflicting" || tb.OutputIDs != nil {
		t.Fatalf("a conflicting transaction created no outputs: %+v", tb)
	}

	if tb, _ := taggedBlock(block, meta, 12, 0, [][]byte{[]byte("tw/ch/")}); tb != nil {
		t.Fatal("a block with an unwanted tag must be skipped")
	}
}
