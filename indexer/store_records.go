package main

import (
	"encoding/json"

	iotago "github.com/iotaledger/iota.go/v3"
)

// What the store keeps per milestone, output and tagged block, and what one milestone's update carries.

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
