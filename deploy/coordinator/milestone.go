package main

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/iotaledger/hive.go/crypto"
	"github.com/iotaledger/hive.go/serializer/v2"
	iotago "github.com/iotaledger/iota.go/v3"
	"github.com/iotaledger/iota.go/v3/builder"
	"github.com/iotaledger/iota.go/v3/keymanager"
	"github.com/iotaledger/iota.go/v3/signingprovider"
)

// parseKeys reads the comma-separated hex Ed25519 private keys in the format
// `hornet tool ed25519-key` prints and `bootstrap-private-tangle` reads.
func parseKeys(env string) ([]ed25519.PrivateKey, error) {
	raw, ok := os.LookupEnv(env)
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, fmt.Errorf("environment variable %s is not set (comma-separated hex ed25519 private keys)", env)
	}
	var keys []ed25519.PrivateKey
	for i, part := range strings.Split(raw, ",") {
		key, err := crypto.ParseEd25519PrivateKeyFromString(strings.TrimPrefix(strings.TrimSpace(part), "0x"))
		if err != nil {
			// never echo the key itself: it is a secret.
			return nil, fmt.Errorf("%s: key #%d is not a 64-byte hex ed25519 private key", env, i+1)
		}
		keys = append(keys, key)
	}

	return keys, nil
}

// newSigner mirrors the node's publicKeyRanges (every key valid from index 0, no end).
func newSigner(keys []ed25519.PrivateKey, publicKeyCount int) (*keymanager.KeyManager, signingprovider.MilestoneSignerProvider) {
	km := keymanager.New()
	for _, k := range keys {
		km.AddKeyRange(k.Public().(ed25519.PublicKey), 0, 0)
	}

	return km, signingprovider.NewInMemoryEd25519MilestoneSignerProvider(keys, km, publicKeyCount)
}

// selectParents always keeps the previous milestone block (white-flag requires
// the previous milestone in the new milestone's past cone), adds at most
// maxTips tips, and returns them deduplicated and lexically sorted as the
// serializer demands.
func selectParents(prevMilestoneBlock iotago.BlockID, tips iotago.BlockIDs, maxTips int) iotago.BlockIDs {
	parents := iotago.BlockIDs{prevMilestoneBlock}
	seen := map[iotago.BlockID]bool{prevMilestoneBlock: true, iotago.EmptyBlockID(): true}
	for _, tip := range tips {
		if len(parents) > maxTips || len(parents) >= iotago.BlockMaxParents {
			break
		}
		if !seen[tip] {
			seen[tip] = true
			parents = append(parents, tip)
		}
	}

	return parents.RemoveDupsAndSort()
}

// nextTick is when to issue the milestone after one whose tick started at started and whose timestamp
// was taken at issuedAt. Milestone timestamps are whole seconds, taken when the milestone asks for its
// tips, and must strictly increase. With an interval of whole seconds the next tick is that many seconds
// after the start of this milestone's second: ticks fall just after a whole second, so a milestone's
// timestamp is not earlier than the blocks it references but for those of the millisecond or two before the
// tick (a market book's "now" is the milestone's time), and no tick has to wait for the next second. Otherwise it is an
// interval after the later of the tick and the timestamp: were it after the tick, a tick that had to wait
// for the next second would leave every later tick in the same second as the milestone before it.
func nextTick(started, issuedAt time.Time, interval time.Duration) time.Time {
	if interval >= time.Second && interval%time.Second == 0 && !issuedAt.IsZero() {
		return issuedAt.Truncate(time.Second).Add(interval)
	}
	if issuedAt.After(started) {
		return issuedAt.Add(interval)
	}

	return started.Add(interval)
}

// milestoneInput is everything a milestone commits to.
type milestoneInput struct {
	index           iotago.MilestoneIndex
	timestamp       uint32
	protocolVersion byte
	previousID      iotago.MilestoneID
	parents         iotago.BlockIDs
	inclusionRoot   iotago.MilestoneMerkleProof
	appliedRoot     iotago.MilestoneMerkleProof
}

// buildMilestoneBlock signs the milestone with all configured keys and wraps
// it into a block (nonce 0: milestone blocks need no PoW). It verifies the
// result locally so a broken block never reaches the node.
func buildMilestoneBlock(signer signingprovider.MilestoneSignerProvider, in milestoneInput, protoParams *iotago.ProtocolParameters) (*iotago.Block, iotago.MilestoneID, iotago.BlockID, error) {
	ms := iotago.NewMilestone(in.index, in.timestamp, in.protocolVersion, in.previousID, in.parents, in.inclusionRoot, in.appliedRoot)

	indexSigner := signer.MilestoneIndexSigner(in.index)
	if err := ms.Sign(indexSigner.PublicKeys(), indexSigner.SigningFunc()); err != nil {
		return nil, iotago.MilestoneID{}, iotago.BlockID{}, fmt.Errorf("signing milestone %d: %w", in.index, err)
	}
	if err := ms.VerifySignatures(signer.PublicKeysCount(), indexSigner.PublicKeysSet()); err != nil {
		return nil, iotago.MilestoneID{}, iotago.BlockID{}, fmt.Errorf("verifying milestone %d: %w", in.index, err)
	}

	block, err := builder.NewBlockBuilder().
		ProtocolVersion(in.protocolVersion).
		Parents(in.parents).
		Payload(ms).
		Build()
	if err != nil {
		return nil, iotago.MilestoneID{}, iotago.BlockID{}, fmt.Errorf("building milestone block %d: %w", in.index, err)
	}
	if _, err := block.Serialize(serializer.DeSeriModePerformValidation, protoParams); err != nil {
		return nil, iotago.MilestoneID{}, iotago.BlockID{}, fmt.Errorf("milestone block %d is invalid: %w", in.index, err)
	}

	msID, err := ms.ID()
	if err != nil {
		return nil, iotago.MilestoneID{}, iotago.BlockID{}, err
	}
	blockID, err := block.ID()
	if err != nil {
		return nil, iotago.MilestoneID{}, iotago.BlockID{}, err
	}

	return block, msID, blockID, nil
}

// milestoneBlockID recomputes the ID of the block that carried a milestone:
// parents equal the milestone's parents (the node enforces it) and the nonce
// is 0 (the node forces it), so the block is fully determined by the payload.
func milestoneBlockID(ms *iotago.Milestone) (iotago.BlockID, error) {
	block := &iotago.Block{ProtocolVersion: ms.ProtocolVersion, Parents: ms.Parents, Payload: ms}

	return block.ID()
}
