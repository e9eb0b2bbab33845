package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	iotago "github.com/iotaledger/iota.go/v3"
)

// cooState mirrors the file `hornet tool bootstrap-private-tangle --cooStatePath`
// writes, so the coordinator can pick up right where the bootstrap left off.
type cooState struct {
	LatestMilestoneIndex   iotago.MilestoneIndex `json:"latestMilestoneIndex"`
	LatestMilestoneBlockID string                `json:"latestMilestoneBlockId"`
	LatestMilestoneID      string                `json:"latestMilestoneId"`
	// Unix nanoseconds, as the bootstrap tool writes it.
	LatestMilestoneTime int64 `json:"latestMilestoneTime"`
}

// decoded holds the parsed IDs so the hot loop never re-parses hex.
type decodedState struct {
	index       iotago.MilestoneIndex
	blockID     iotago.BlockID
	milestoneID iotago.MilestoneID
	timeNanos   int64
}

func loadState(path string) (*decodedState, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading state file (written by `hornet tool bootstrap-private-tangle --cooStatePath`): %w", err)
	}
	var s cooState
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("state file %s is not valid JSON: %w", path, err)
	}
	if s.LatestMilestoneIndex == 0 {
		return nil, fmt.Errorf("state file %s has no latestMilestoneIndex", path)
	}
	blockID, err := iotago.BlockIDFromHexString(s.LatestMilestoneBlockID)
	if err != nil {
		return nil, fmt.Errorf("state file %s: bad latestMilestoneBlockId: %w", path, err)
	}
	msIDBytes, err := iotago.DecodeHex(s.LatestMilestoneID)
	if err != nil || len(msIDBytes) != iotago.MilestoneIDLength {
		return nil, fmt.Errorf("state file %s: bad latestMilestoneId %q", path, s.LatestMilestoneID)
	}
	d := &decodedState{index: s.LatestMilestoneIndex, blockID: blockID, timeNanos: s.LatestMilestoneTime}
	copy(d.milestoneID[:], msIDBytes)

	return d, nil
}

// saveState writes atomically (temp file, fsync, rename, fsync dir) so a crash
// never leaves a truncated state file behind.
func saveState(path string, d *decodedState) error {
	data, err := json.MarshalIndent(cooState{
		LatestMilestoneIndex:   d.index,
		LatestMilestoneBlockID: d.blockID.ToHex(),
		LatestMilestoneID:      d.milestoneID.ToHex(),
		LatestMilestoneTime:    d.timeNanos,
	}, "", "  ")
	if err != nil {
		return err
	}

	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing state file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // no-op once renamed

	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing state file: %w", err)
	}
	if err := tmp.Chmod(0o660); err != nil {
		tmp.Close()
		return fmt.Errorf("writing state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("syncing state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing state file: %w", err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("replacing state file: %w", err)
	}
	// fsync the directory so the rename itself survives a power loss.
	if dirFile, err := os.Open(dir); err == nil {
		_ = dirFile.Sync()
		dirFile.Close()
	}

	return nil
}
