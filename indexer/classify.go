package main

import (
	"bytes"

	iotago "github.com/iotaledger/iota.go/v3"
)

// Role says why an output is listed under an address. An output appears under
// every address that owns it or that it pays back to, so a wallet sees funds
// it can unlock now or later (expiration) and deposits it gets back (SDRUC).
type Role uint8

const (
	RoleAddress              Role = 1 << iota // address unlock condition: the owner
	RoleStorageDepositReturn                  // storage deposit return: gets the deposit back when the owner spends it
	RoleExpirationReturn                      // expiration: can unlock it once it has expired
	RoleStateController                       // alias state controller
	RoleGovernor                              // alias governor
	RoleImmutableAlias                        // foundry's controlling alias
)

var roleNames = []struct {
	role Role
	name string
}{
	{RoleAddress, "address"},
	{RoleStorageDepositReturn, "storageDepositReturn"},
	{RoleExpirationReturn, "expirationReturn"},
	{RoleStateController, "stateController"},
	{RoleGovernor, "governor"},
	{RoleImmutableAlias, "immutableAlias"},
}

// Names lists the roles in a fixed order, for the API.
func (r Role) Names() []string {
	names := []string{}
	for _, rn := range roleNames {
		if r&rn.role != 0 {
			names = append(names, rn.name)
		}
	}

	return names
}

// addressKey is an address's serialized form: its type byte then its 32 bytes,
// the same length for Ed25519, alias and NFT addresses.
type addressKey [1 + 32]byte

func keyOf(addr iotago.Address) addressKey {
	var k addressKey
	copy(k[:], addr.Key())

	return k
}

// outputRoles maps every address an output names in its unlock conditions to
// the roles it plays there.
func outputRoles(output iotago.Output) map[addressKey]Role {
	roles := map[addressKey]Role{}
	add := func(addr iotago.Address, role Role) {
		if addr != nil {
			roles[keyOf(addr)] |= role
		}
	}
	for _, cond := range output.UnlockConditionSet() {
		switch c := cond.(type) {
		case *iotago.AddressUnlockCondition:
			add(c.Address, RoleAddress)
		case *iotago.StorageDepositReturnUnlockCondition:
			add(c.ReturnAddress, RoleStorageDepositReturn)
		case *iotago.ExpirationUnlockCondition:
			add(c.ReturnAddress, RoleExpirationReturn)
		case *iotago.StateControllerAddressUnlockCondition:
			add(c.Address, RoleStateController)
		case *iotago.GovernorAddressUnlockCondition:
			add(c.Address, RoleGovernor)
		case *iotago.ImmutableAliasUnlockCondition:
			add(c.Address, RoleImmutableAlias)
		}
	}

	return roles
}

// taggedData finds the tagged data a block carries: as its own payload, or
// inside a transaction's essence (how payments carry their description).
// txID is set for a transaction.
func taggedData(block *iotago.Block) (tagged *iotago.TaggedData, txID *iotago.TransactionID, err error) {
	switch payload := block.Payload.(type) {
	case *iotago.TaggedData:
		return payload, nil, nil
	case *iotago.Transaction:
		if payload.Essence == nil {
			return nil, nil, nil
		}
		inner, ok := payload.Essence.Payload.(*iotago.TaggedData)
		if !ok {
			return nil, nil, nil
		}
		id, err := payload.ID()
		if err != nil {
			return nil, nil, err
		}

		return inner, &id, nil
	}

	return nil, nil, nil
}

// tagWanted reports whether a tag starts with one of the configured prefixes;
// no prefixes means every tag.
func tagWanted(prefixes [][]byte, tag []byte) bool {
	if len(prefixes) == 0 {
		return true
	}
	for _, p := range prefixes {
		if bytes.HasPrefix(tag, p) {
			return true
		}
	}

	return false
}
