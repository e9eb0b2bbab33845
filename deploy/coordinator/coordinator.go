package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/iotaledger/hive.go/serializer/v2"
	inx "github.com/iotaledger/inx/go"
	iotago "github.com/iotaledger/iota.go/v3"
	"github.com/iotaledger/iota.go/v3/keymanager"
	"github.com/iotaledger/iota.go/v3/signingprovider"
)

const (
	rpcTimeout = 10 * time.Second
	// after this long without confirmation the same block is submitted again,
	// in case the node restarted before persisting it.
	resubmitAfter = 10 * time.Second
	// how long a SIGINT/SIGTERM waits for an in-flight milestone before exiting.
	shutdownGrace = 10 * time.Second
	pollEvery     = 50 * time.Millisecond
	// the fix for any disagreement between state file and node ledger.
	resetHint = "delete the node's data dir (db, snapshots, coordinator.state) and run `hornet tool bootstrap-private-tangle` again"
)

// fatalError marks problems that retrying cannot fix.
type fatalError struct{ error }

func fatalf(format string, args ...any) error { return fatalError{fmt.Errorf(format, args...)} }

type coordinator struct {
	cfg        *config
	log        *log.Logger
	client     inx.INXClient
	signer     signingprovider.MilestoneSignerProvider
	keyManager *keymanager.KeyManager
	state      *decodedState
	// HORNET reports "not synced" after a restart until the next milestone
	// arrives; asking for tips then only makes the node log an error.
	skipTips bool
	// last retry error logged, so a node that is down logs once, not every tick.
	lastErr     string
	lastErrTime time.Time
	// when the last milestone's timestamp was taken: the schedule follows it.
	issuedAt time.Time
}

func (c *coordinator) run(ctx context.Context) error {
	if err := c.waitForNode(ctx); err != nil {
		return err
	}
	if err := c.checkKeys(ctx); err != nil {
		return err
	}
	if err := c.waitUntilReady(ctx); err != nil {
		return err
	}
	c.log.Printf("coordinator ready: latest milestone %d, issuing every %s via %s", c.state.index, c.cfg.interval, c.cfg.inxAddress)

	next := time.Now()
	for {
		if err := sleepUntil(ctx, next); err != nil {
			c.log.Printf("stopping at milestone %d", c.state.index)
			return nil
		}
		started := time.Now()
		if err := c.issueMilestone(ctx); err != nil {
			if ctx.Err() != nil {
				// a signal arrived mid-milestone; a restart picks up from the node.
				c.log.Printf("stopping: %s", oneLine(err))
				return nil
			}
			var fatal fatalError
			if errors.As(err, &fatal) {
				return err
			}
			// transient (node restarting, parents not yet solid...): try again next
			// tick, without tips in case the node restarted and is not synced.
			c.skipTips = true
			if msg := oneLine(err); msg != c.lastErr || time.Since(c.lastErrTime) > time.Minute {
				c.log.Printf("milestone %d not issued, retrying every %s: %s", c.state.index+1, c.cfg.interval, msg)
				c.lastErr, c.lastErrTime = msg, time.Now()
			}
		} else {
			c.lastErr = ""
		}
		next = nextTick(started, c.issuedAt, c.cfg.interval)
	}
}

// waitForNode retries until the node answers over INX at all.
func (c *coordinator) waitForNode(ctx context.Context) error {
	logged := false
	for {
		_, err := c.nodeStatus(ctx)
		if err == nil {
			return nil
		}
		if !logged {
			c.log.Printf("waiting for HORNET INX at %s: %s", c.cfg.inxAddress, oneLine(err))
			logged = true
		}
		if err := sleepUntil(ctx, time.Now().Add(500*time.Millisecond)); err != nil {
			return err
		}
	}
}

// checkKeys compares our keys with the node's configuration now, so a key
// mismatch is one clear error instead of milestones the node silently ignores.
func (c *coordinator) checkKeys(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	nodeCfg, err := c.client.ReadNodeConfiguration(rctx, &inx.NoParams{})
	if err != nil {
		return fmt.Errorf("reading node configuration: %w", err)
	}
	if int(nodeCfg.GetMilestonePublicKeyCount()) > c.cfg.publicKeyCount {
		return fmt.Errorf("--publicKeyCount %d is below the node's protocol.milestonePublicKeyCount %d", c.cfg.publicKeyCount, nodeCfg.GetMilestonePublicKeyCount())
	}

	nodeKeys := keymanager.New()
	for _, r := range nodeCfg.GetMilestoneKeyRanges() {
		nodeKeys.AddKeyRange(r.GetPublicKey(), r.GetStartIndex(), r.GetEndIndex())
	}
	next := c.state.index + 1
	accepted := nodeKeys.PublicKeysSetForMilestoneIndex(next)
	for _, pub := range c.signer.MilestoneIndexSigner(next).PublicKeys() {
		if _, ok := accepted[pub]; !ok {
			return fmt.Errorf("public key %s (from %s) is not in the node's protocol.publicKeyRanges for milestone %d", iotago.EncodeHex(pub[:]), keysEnv, next)
		}
	}

	return nil
}

// waitUntilReady waits until the node has confirmed exactly the milestone our
// state file names, which is what ComputeWhiteFlag needs for the next index.
func (c *coordinator) waitUntilReady(ctx context.Context) error {
	logged := false
	for {
		ns, err := c.nodeStatus(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
		} else {
			latest := ns.GetLatestMilestone().GetMilestoneInfo()
			confirmed := ns.GetConfirmedMilestone().GetMilestoneInfo().GetMilestoneIndex()

			switch {
			case latest.GetMilestoneIndex() == c.state.index+1:
				// we crashed between submitting and saving: adopt our own milestone.
				if err := c.recoverOneAhead(ctx); err != nil {
					return err
				}
				continue
			case latest.GetMilestoneIndex() > c.state.index:
				return fmt.Errorf("state file %s is at milestone %d but the node is already at %d; %s", c.cfg.stateFile, c.state.index, latest.GetMilestoneIndex(), resetHint)
			case latest.GetMilestoneIndex() < c.state.index && latest.GetMilestoneIndex() != 0:
				return fmt.Errorf("state file %s is at milestone %d but the node only knows milestone %d; %s", c.cfg.stateFile, c.state.index, latest.GetMilestoneIndex(), resetHint)
			// IsSynced is not required: after a restart HORNET only reports
			// synced once the next milestone arrives, which is ours to issue.
			case latest.GetMilestoneIndex() == c.state.index && confirmed == c.state.index:
				if latest.GetMilestoneId().Unwrap() != c.state.milestoneID {
					return fmt.Errorf("node's milestone %d is %s, not %s from %s; %s", c.state.index, latest.GetMilestoneId().Unwrap().ToHex(), c.state.milestoneID.ToHex(), c.cfg.stateFile, resetHint)
				}
				// the node's timestamp is authoritative for "strictly increasing".
				if ts := int64(latest.GetMilestoneTimestamp()); ts > c.state.timeNanos/int64(time.Second) {
					c.state.timeNanos = ts * int64(time.Second)
				}
				c.skipTips = !ns.GetIsSynced()

				return nil
			}
			if !logged {
				c.log.Printf("waiting for node to sync: latest %d, confirmed %d, want %d", latest.GetMilestoneIndex(), confirmed, c.state.index)
				logged = true
			}
		}
		if err := sleepUntil(ctx, time.Now().Add(500*time.Millisecond)); err != nil {
			return err
		}
	}
}

// recoverOneAhead handles the node being exactly one milestone ahead: it
// accepts that milestone only if it chains to our state and carries our
// signatures, so a foreign network never gets adopted.
func (c *coordinator) recoverOneAhead(ctx context.Context) error {
	index := c.state.index + 1
	rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	raw, err := c.client.ReadMilestone(rctx, &inx.MilestoneRequest{MilestoneIndex: index})
	if err != nil {
		return fmt.Errorf("reading milestone %d from node: %w", index, err)
	}
	ms, err := raw.UnwrapMilestone(serializer.DeSeriModePerformValidation, nil)
	if err != nil {
		return fmt.Errorf("decoding milestone %d from node: %w", index, err)
	}
	if ms.PreviousMilestoneID != c.state.milestoneID ||
		ms.VerifySignatures(c.cfg.publicKeyCount, c.keyManager.PublicKeysSetForMilestoneIndex(index)) != nil {
		return fmt.Errorf("node's milestone %d does not follow state file %s; %s", index, c.cfg.stateFile, resetHint)
	}
	blockID, err := milestoneBlockID(ms)
	if err != nil {
		return err
	}
	if _, err := c.client.ReadBlockMetadata(rctx, inx.NewBlockId(blockID)); err != nil {
		return fmt.Errorf("node's milestone %d: its block %s is unknown to the node: %w", index, blockID.ToHex(), err)
	}

	c.state = &decodedState{index: index, blockID: blockID, milestoneID: raw.GetMilestoneInfo().GetMilestoneId().Unwrap(), timeNanos: int64(ms.Timestamp) * int64(time.Second)}
	if err := saveState(c.cfg.stateFile, c.state); err != nil {
		return fatalError{err}
	}
	c.log.Printf("recovered milestone %d from the node (it was issued but not saved before the last stop)", index)

	return nil
}

// issueMilestone builds, submits and confirms milestone state.index+1.
func (c *coordinator) issueMilestone(ctx context.Context) error {
	started := time.Now()
	index := c.state.index + 1

	// milestone timestamps are whole seconds and must strictly increase.
	now, err := c.nextTimestamp(ctx)
	if err != nil {
		return err
	}
	c.issuedAt = now
	timestamp := uint32(now.Unix())

	rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()

	// read per index so a scheduled protocol upgrade is honoured.
	rawParams, err := c.client.ReadProtocolParameters(rctx, &inx.MilestoneRequest{MilestoneIndex: index})
	if err != nil {
		return fmt.Errorf("reading protocol parameters: %w", err)
	}
	protoParams := &iotago.ProtocolParameters{}
	if _, err := protoParams.Deserialize(rawParams.GetParams(), serializer.DeSeriModePerformValidation, nil); err != nil {
		return fatalf("decoding protocol parameters: %w", err)
	}

	// Tips are asked for after any wait for the timestamp, so the milestone references the newest blocks.
	var tips iotago.BlockIDs
	if c.cfg.tips > 0 && !c.skipTips {
		tips, err = c.gatherTips(rctx)
		if err != nil {
			return err
		}
	}
	parents := selectParents(c.state.blockID, tips, c.cfg.tips)

	wf, err := c.client.ComputeWhiteFlag(rctx, &inx.WhiteFlagRequest{
		MilestoneIndex:      index,
		MilestoneTimestamp:  timestamp,
		Parents:             inx.NewBlockIds(parents),
		PreviousMilestoneId: inx.NewMilestoneId(c.state.milestoneID),
	})
	if err != nil {
		return fmt.Errorf("computing white flag: %w", err)
	}
	in := milestoneInput{
		index:           index,
		timestamp:       timestamp,
		protocolVersion: protoParams.Version,
		previousID:      c.state.milestoneID,
		parents:         parents,
	}
	if copy(in.inclusionRoot[:], wf.GetMilestoneInclusionMerkleRoot()) != iotago.MilestoneMerkleProofLength ||
		copy(in.appliedRoot[:], wf.GetMilestoneAppliedMerkleRoot()) != iotago.MilestoneMerkleProofLength {
		return fatalf("node returned malformed white-flag merkle roots")
	}

	block, msID, blockID, err := buildMilestoneBlock(c.signer, in, protoParams)
	if err != nil {
		return fatalError{err}
	}
	rawBlock, err := inx.WrapBlock(block)
	if err != nil {
		return fatalError{err}
	}

	// From here on this exact block is the milestone for index: never build a
	// different one, or the network could see two milestones with one index.
	if err := c.submitAndConfirm(ctx, index, msID, blockID, rawBlock); err != nil {
		return fatalError{err}
	}

	c.state = &decodedState{index: index, blockID: blockID, milestoneID: msID, timeNanos: now.UnixNano()}
	c.skipTips = false
	if err := saveState(c.cfg.stateFile, c.state); err != nil {
		return fatalError{err}
	}
	c.log.Printf("milestone %d id=%s parents=%d took=%s", index, msID.ToHex(), len(parents), time.Since(started).Round(time.Millisecond))

	return nil
}

// nextTimestamp returns a time whose second is past the previous milestone's.
func (c *coordinator) nextTimestamp(ctx context.Context) (time.Time, error) {
	prev := c.state.timeNanos / int64(time.Second)
	for {
		now := time.Now()
		if now.Unix() > prev {
			return now, nil
		}
		if err := sleepUntil(ctx, time.Unix(prev+1, 0)); err != nil {
			return time.Time{}, err
		}
	}
}

// submitAndConfirm submits the block and waits until the node has confirmed
// it as milestone index. A shutdown signal gets a short grace period so the
// state file usually ends up matching the node.
func (c *coordinator) submitAndConfirm(ctx context.Context, index iotago.MilestoneIndex, msID iotago.MilestoneID, blockID iotago.BlockID, rawBlock *inx.RawBlock) error {
	waitCtx := context.WithoutCancel(ctx)
	var graceDeadline time.Time
	var submittedAt time.Time

	for {
		if ctx.Err() != nil {
			if graceDeadline.IsZero() {
				graceDeadline = time.Now().Add(shutdownGrace)
			} else if time.Now().After(graceDeadline) {
				return fmt.Errorf("interrupted while waiting for milestone %d; restart to continue", index)
			}
		}

		if submittedAt.IsZero() || time.Since(submittedAt) > resubmitAfter {
			if !submittedAt.IsZero() {
				c.log.Printf("milestone %d not confirmed after %s, submitting the same block again", index, resubmitAfter)
			}
			submittedAt = time.Now()
			sctx, cancel := context.WithTimeout(waitCtx, rpcTimeout)
			id, err := c.client.SubmitBlock(sctx, rawBlock)
			cancel()
			switch {
			case status.Code(err) == codes.InvalidArgument:
				return fmt.Errorf("node rejected milestone %d: %s", index, status.Convert(err).Message())
			case err != nil:
				c.log.Printf("submitting milestone %d: %s", index, oneLine(err))
			case id.Unwrap() != blockID:
				return fmt.Errorf("node stored milestone %d as block %s, expected %s", index, id.Unwrap().ToHex(), blockID.ToHex())
			}
		}

		ns, err := c.nodeStatus(waitCtx)
		if err == nil {
			confirmed := ns.GetConfirmedMilestone().GetMilestoneInfo()
			switch {
			case confirmed.GetMilestoneIndex() == index:
				if confirmed.GetMilestoneId().Unwrap() != msID {
					return fmt.Errorf("node confirmed a different milestone %d (%s); is another coordinator running?", index, confirmed.GetMilestoneId().Unwrap().ToHex())
				}

				return nil
			case confirmed.GetMilestoneIndex() > index:
				return fmt.Errorf("node moved past milestone %d to %d on its own; is another coordinator running?", index, confirmed.GetMilestoneIndex())
			}
		}
		time.Sleep(pollEvery)
	}
}

func (c *coordinator) nodeStatus(ctx context.Context) (*inx.NodeStatus, error) {
	rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()

	return c.client.ReadNodeStatus(rctx, &inx.NoParams{})
}

func sleepUntil(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// oneLine drops gRPC's "rpc error: code = X desc =" noise and newlines.
func oneLine(err error) string {
	msg := strings.NewReplacer("rpc error: code = ", "", ": desc = ", ": ", " desc = ", ": ").Replace(err.Error())

	return strings.Join(strings.Fields(msg), " ")
}

// tipRequests bounds how often one milestone asks the node for tips.
const tipRequests = 8

// hornetTipsPerRequest is the most tips HORNET 2.0 gives for one request (its tip selector's fixed count).
const hornetTipsPerRequest = 4

// gatherTips asks the node for tips until it has cfg.tips distinct ones, or an answer shorter than a full
// one shows it had no more. HORNET answers each request with at most 4 tips drawn at random from its pool,
// so one request may leave out the newest blocks; a milestone that misses one includes it only an
// interval later.
func (c *coordinator) gatherTips(ctx context.Context) (iotago.BlockIDs, error) {
	var tips iotago.BlockIDs
	seen := map[iotago.BlockID]bool{}
	for i := 0; i < tipRequests && len(tips) < c.cfg.tips; i++ {
		resp, err := c.client.RequestTips(ctx, &inx.TipsRequest{Count: uint32(c.cfg.tips), AllowSemiLazy: false})
		switch {
		case err == nil:
		case status.Code(err) == codes.Unavailable:
			// "no tips available" on an idle network: reference only the last milestone.
			return tips, nil
		default:
			return nil, fmt.Errorf("requesting tips: %w", err)
		}
		answer := resp.UnwrapTips()
		for _, tip := range answer {
			if !seen[tip] {
				seen[tip] = true
				tips = append(tips, tip)
			}
		}
		if len(answer) < hornetTipsPerRequest {
			break
		}
	}

	return tips, nil
}
