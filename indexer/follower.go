package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"sync"
	"time"

	"github.com/iotaledger/hive.go/serializer/v2"
	inx "github.com/iotaledger/inx/go"
	iotago "github.com/iotaledger/iota.go/v3"
)

const (
	rpcTimeout = 30 * time.Second
	retryEvery = 2 * time.Second
	// how often /health's view of the node is refreshed.
	nodeStatusEvery = 5 * time.Second
)

// nodeView is what the follower last learnt from the node, for /health.
type nodeView struct {
	mu              sync.Mutex
	connected       bool
	confirmed       uint32
	pruningIndex    uint32
	bech32HRP       string
	lastError       string
	lastErrorLogged time.Time
}

type nodeSnapshot struct {
	Connected    bool
	Confirmed    uint32
	PruningIndex uint32
	HRP          string
}

func (v *nodeView) snapshot() nodeSnapshot {
	v.mu.Lock()
	defer v.mu.Unlock()

	return nodeSnapshot{Connected: v.connected, Confirmed: v.confirmed, PruningIndex: v.pruningIndex, HRP: v.bech32HRP}
}

func (v *nodeView) update(f func(v *nodeView)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	f(v)
}

// follower reads each confirmed milestone once from the node and writes it to
// the store, resuming after the store's cursor.
type follower struct {
	client inx.INXClient
	store  *Store
	log    *log.Logger
	tags   [][]byte
	events *broker
	node   *nodeView
}

// run follows the node until ctx ends, reconnecting after any error.
func (f *follower) run(ctx context.Context) error {
	for {
		err := f.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		f.node.update(func(v *nodeView) { v.connected = false })
		var fatal fatalError
		if errors.As(err, &fatal) {
			return err
		}
		f.logThrottled(fmt.Sprintf("following the node, retrying every %s: %s", retryEvery, oneLine(err)))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retryEvery):
		}
	}
}

// fatalError marks problems a retry cannot fix.
type fatalError struct{ error }

func (f *follower) logThrottled(msg string) {
	log := false
	f.node.update(func(v *nodeView) {
		if msg != v.lastError || time.Since(v.lastErrorLogged) > time.Minute {
			v.lastError, v.lastErrorLogged, log = msg, time.Now(), true
		}
	})
	if log {
		f.log.Print(msg)
	}
}

// session is one connection's worth of following: check where the node's
// history starts, fill any gap, then index milestones as they confirm.
func (f *follower) session(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	ns, err := f.client.ReadNodeStatus(rctx, &inx.NoParams{})
	cancel()
	if err != nil {
		return fmt.Errorf("reading node status: %w", err)
	}
	params, err := decodeParams(ns.GetCurrentProtocolParameters())
	if err != nil {
		return err
	}
	if err := f.store.SetNetwork(string(params.Bech32HRP)); err != nil {
		return fatalError{err}
	}
	pruning := ns.GetTanglePruningIndex()
	f.node.update(func(v *nodeView) {
		v.connected = true
		v.confirmed = ns.GetConfirmedMilestone().GetMilestoneInfo().GetMilestoneIndex()
		v.pruningIndex = pruning
		v.bech32HRP = string(params.Bech32HRP)
		v.lastError = ""
	})

	cursor, hasCursor, err := f.store.Cursor()
	if err != nil {
		return fatalError{err}
	}
	if !hasCursor || cursor < pruning {
		if err := f.resync(ctx, cursor, hasCursor, pruning); err != nil {
			return err
		}
		if cursor, _, err = f.store.Cursor(); err != nil {
			return fatalError{err}
		}
	}

	f.log.Printf("following confirmed milestones from %d via INX (node confirmed %d, pruned up to %d)", cursor+1, ns.GetConfirmedMilestone().GetMilestoneInfo().GetMilestoneIndex(), pruning)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go f.watchNode(sctx)
	stream, err := f.client.ListenToConfirmedMilestones(sctx, &inx.MilestoneRangeRequest{StartMilestoneIndex: cursor + 1})
	if err != nil {
		return fmt.Errorf("listening to confirmed milestones: %w", err)
	}
	for {
		msg, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("the node closed the milestone stream")
			}
			return fmt.Errorf("milestone stream: %w", err)
		}
		info := msg.GetMilestone().GetMilestoneInfo()
		index := info.GetMilestoneIndex()
		switch {
		case index <= cursor:
			continue // already indexed (the node replays from the start index)
		case index != cursor+1:
			return fmt.Errorf("the node sent milestone %d right after %d", index, cursor)
		}
		if p := msg.GetCurrentProtocolParameters(); p != nil {
			if decoded, err := decodeParams(p); err == nil {
				params = decoded
			}
		}
		update, err := f.readMilestone(ctx, msg.GetMilestone(), params)
		if err != nil {
			return err
		}
		if err := f.store.ApplyMilestone(update); err != nil {
			return fatalError{fmt.Errorf("storing milestone %d: %w", index, err)}
		}
		cursor = index
		f.node.update(func(v *nodeView) {
			if index > v.confirmed {
				v.confirmed = index
			}
		})
		f.events.publishMilestone(update, params.Bech32HRP)
	}
}

// watchNode keeps /health's view of the node's confirmed and pruning index current.
func (f *follower) watchNode(ctx context.Context) {
	ticker := time.NewTicker(nodeStatusEvery)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		ns, err := f.client.ReadNodeStatus(rctx, &inx.NoParams{})
		cancel()
		if err != nil {
			continue // the milestone stream reports a lost node
		}
		f.node.update(func(v *nodeView) {
			v.confirmed = ns.GetConfirmedMilestone().GetMilestoneInfo().GetMilestoneIndex()
			v.pruningIndex = ns.GetTanglePruningIndex()
		})
	}
}

// resync runs when the node no longer holds the milestones after the cursor
// (or on the first run): it takes the node's unspent outputs and records the
// milestones it can never read as a gap.
func (f *follower) resync(ctx context.Context, cursor uint32, hasCursor bool, pruning uint32) error {
	reason := "pruned by the node before the indexer's first start"
	if hasCursor {
		reason = "pruned by the node while the indexer was not following"
		f.log.Printf("the node has pruned milestones %d-%d before they were indexed: their milestone summaries and tagged-data blocks are lost; outputs are re-read from the node's unspent set (outputs spent in those milestones show milestoneIndexSpent 0)", cursor+1, pruning)
	} else if pruning > 0 {
		f.log.Printf("first start: reading the node's unspent outputs; milestones up to %d are pruned on the node and not indexed", pruning)
	} else {
		f.log.Print("first start: reading the node's unspent outputs (the node holds every milestone)")
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	stream, err := f.client.ReadUnspentOutputs(rctx, &inx.NoParams{})
	if err != nil {
		return fmt.Errorf("reading unspent outputs: %w", err)
	}
	var unspent []LedgerOutput
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading unspent outputs: %w", err)
		}
		lo, err := ledgerOutput(msg.GetOutput())
		if err != nil {
			return err
		}
		unspent = append(unspent, *lo)
	}
	gap, err := f.store.Resync(unspent, pruning, reason)
	if err != nil {
		return fatalError{fmt.Errorf("storing the unspent set: %w", err)}
	}
	if gap != nil {
		f.log.Printf("recorded gap: milestones %d-%d (%s); %d unspent outputs re-read", gap.From, gap.To, gap.Reason, len(unspent))
	}

	return nil
}

// readMilestone gathers what milestone ms changed: its ledger diff and the
// wanted tagged-data blocks of its cone.
func (f *follower) readMilestone(ctx context.Context, ms *inx.Milestone, params *iotago.ProtocolParameters) (*MilestoneUpdate, error) {
	info := ms.GetMilestoneInfo()
	index := info.GetMilestoneIndex()
	update := &MilestoneUpdate{Summary: MilestoneSummary{
		Index:       index,
		MilestoneID: info.GetMilestoneId().Unwrap().ToHex(),
		Timestamp:   info.GetMilestoneTimestamp(),
	}}
	if decoded, err := ms.UnwrapMilestone(serializer.DeSeriModeNoValidation, params); err == nil {
		update.Summary.PreviousMilestoneID = decoded.PreviousMilestoneID.ToHex()
	}

	if err := f.readLedgerDiff(ctx, index, update); err != nil {
		return nil, err
	}
	if err := f.readCone(ctx, index, info.GetMilestoneTimestamp(), params, update); err != nil {
		return nil, err
	}
	update.Summary.CreatedOutputs = len(update.Created)
	update.Summary.ConsumedOutputs = len(update.Consumed)
	update.Summary.TaggedBlocks = len(update.Blocks)

	return update, nil
}

func (f *follower) readLedgerDiff(ctx context.Context, index uint32, update *MilestoneUpdate) error {
	rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	stream, err := f.client.ListenToLedgerUpdates(rctx, &inx.MilestoneRangeRequest{StartMilestoneIndex: index, EndMilestoneIndex: index})
	if err != nil {
		return fmt.Errorf("ledger update of milestone %d: %w", index, err)
	}
	for {
		msg, err := stream.Recv()
		if err != nil {
			return fmt.Errorf("ledger update of milestone %d: %w", index, err)
		}
		switch op := msg.GetOp().(type) {
		case *inx.LedgerUpdate_BatchMarker:
			marker := op.BatchMarker
			if marker.GetMilestoneIndex() != index {
				return fmt.Errorf("asked for the ledger update of milestone %d, got %d", index, marker.GetMilestoneIndex())
			}
			if marker.GetMarkerType() != inx.LedgerUpdate_Marker_END {
				continue
			}
			if int(marker.GetCreatedCount()) != len(update.Created) || int(marker.GetConsumedCount()) != len(update.Consumed) {
				return fmt.Errorf("ledger update of milestone %d: node announced %d created/%d consumed, sent %d/%d",
					index, marker.GetCreatedCount(), marker.GetConsumedCount(), len(update.Created), len(update.Consumed))
			}

			return nil
		case *inx.LedgerUpdate_Created:
			lo, err := ledgerOutput(op.Created)
			if err != nil {
				return err
			}
			update.Created = append(update.Created, *lo)
		case *inx.LedgerUpdate_Consumed:
			lo, err := ledgerOutput(op.Consumed.GetOutput())
			if err != nil {
				return err
			}
			update.Consumed = append(update.Consumed, LedgerSpent{
				LedgerOutput:            *lo,
				TransactionIDSpent:      op.Consumed.UnwrapTransactionIDSpent(),
				MilestoneIndexSpent:     op.Consumed.GetMilestoneIndexSpent(),
				MilestoneTimestampSpent: op.Consumed.GetMilestoneTimestampSpent(),
			})
		}
	}
}

// readCone walks the blocks milestone index referenced and keeps those whose
// tagged data (own payload or inside a transaction) carries a wanted tag.
func (f *follower) readCone(ctx context.Context, index, timestamp uint32, params *iotago.ProtocolParameters, update *MilestoneUpdate) error {
	rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	stream, err := f.client.ReadMilestoneCone(rctx, &inx.MilestoneRequest{MilestoneIndex: index})
	if err != nil {
		return fmt.Errorf("cone of milestone %d: %w", index, err)
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("cone of milestone %d: %w", index, err)
		}
		update.Summary.BlocksReferenced++
		block, err := msg.GetBlock().UnwrapBlock(serializer.DeSeriModeNoValidation, params)
		if err != nil {
			return fmt.Errorf("decoding block %s: %w", msg.GetMetadata().UnwrapBlockID().ToHex(), err)
		}
		tb, err := taggedBlock(block, msg.GetMetadata(), index, timestamp, f.tags)
		if err != nil {
			return err
		}
		if tb != nil {
			update.Blocks = append(update.Blocks, tb)
		}
	}
}

// taggedBlock builds the stored form of a block with a wanted tag, or nil.
func taggedBlock(block *iotago.Block, meta *inx.BlockMetadata, index, timestamp uint32, tags [][]byte) (*TaggedBlock, error) {
	tagged, txID, err := taggedData(block)
	if err != nil || tagged == nil || !tagWanted(tags, tagged.Tag) {
		return nil, err
	}
	blockJSON, err := json.Marshal(block)
	if err != nil {
		return nil, fmt.Errorf("block %s as JSON: %w", meta.UnwrapBlockID().ToHex(), err)
	}
	id := meta.UnwrapBlockID()
	tb := &TaggedBlock{
		BlockID:              id.ToHex(),
		MilestoneIndex:       index,
		MilestoneTimestamp:   timestamp,
		Tag:                  iotago.EncodeHex(tagged.Tag),
		Data:                 iotago.EncodeHex(tagged.Data),
		LedgerInclusionState: inclusionState(meta.GetLedgerInclusionState()),
		Block:                blockJSON,
		id:                   id,
		tag:                  tagged.Tag,
	}
	if txID != nil {
		tb.TransactionID = txID.ToHex()
		if tb.LedgerInclusionState == "included" {
			tx := block.Payload.(*iotago.Transaction)
			for i := range tx.Essence.Outputs {
				tb.OutputIDs = append(tb.OutputIDs, iotago.OutputIDFromTransactionIDAndIndex(*txID, uint16(i)).ToHex())
			}
		}
	}

	return tb, nil
}

// inclusionState names the state as HORNET's REST API does.
func inclusionState(s inx.BlockMetadata_LedgerInclusionState) string {
	switch s {
	case inx.BlockMetadata_LEDGER_INCLUSION_STATE_INCLUDED:
		return "included"
	case inx.BlockMetadata_LEDGER_INCLUSION_STATE_CONFLICTING:
		return "conflicting"
	default:
		return "noTransaction"
	}
}

func ledgerOutput(o *inx.LedgerOutput) (*LedgerOutput, error) {
	if o == nil {
		return nil, errors.New("the node sent an empty ledger output")
	}
	output, err := o.UnwrapOutput(serializer.DeSeriModeNoValidation, nil)
	if err != nil {
		return nil, fmt.Errorf("decoding output %s: %w", o.UnwrapOutputID().ToHex(), err)
	}

	return &LedgerOutput{
		ID:                       o.UnwrapOutputID(),
		BlockID:                  o.UnwrapBlockID(),
		MilestoneIndexBooked:     o.GetMilestoneIndexBooked(),
		MilestoneTimestampBooked: o.GetMilestoneTimestampBooked(),
		Output:                   output,
	}, nil
}

func decodeParams(raw *inx.RawProtocolParameters) (*iotago.ProtocolParameters, error) {
	params := &iotago.ProtocolParameters{}
	if _, err := params.Deserialize(raw.GetParams(), serializer.DeSeriModeNoValidation, nil); err != nil {
		return nil, fmt.Errorf("decoding protocol parameters: %w", err)
	}

	return params, nil
}

// oneLine drops gRPC's "rpc error: code = X desc =" noise and newlines.
func oneLine(err error) string {
	msg := strings.NewReplacer("rpc error: code = ", "", ": desc = ", ": ", " desc = ", ": ").Replace(err.Error())

	return strings.Join(strings.Fields(msg), " ")
}
