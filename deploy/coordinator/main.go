// Command tanglewatt-coordinator is a minimal milestone coordinator for a
// private IOTA Stardust network. It drives a HORNET node over INX: it asks the
// node for tips and white-flag Merkle roots, signs the milestone with the
// coordinator keys and submits it. The node validates everything, so this
// program only has to be correct about ordering and persistence.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	inx "github.com/iotaledger/inx/go"
	iotago "github.com/iotaledger/iota.go/v3"
)

const keysEnv = "COO_PRV_KEYS"

type config struct {
	inxAddress     string
	stateFile      string
	interval       time.Duration
	tips           int
	publicKeyCount int
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("tanglewatt-coordinator", flag.ContinueOnError)
	cfg := &config{}
	fs.StringVar(&cfg.inxAddress, "inx.address", "127.0.0.1:9029", "INX address of the HORNET node")
	fs.StringVar(&cfg.stateFile, "stateFile", "", "coordinator state file written by `hornet tool bootstrap-private-tangle` (required)")
	fs.DurationVar(&cfg.interval, "interval", 5*time.Second, "milestone interval (min 1s)")
	fs.IntVar(&cfg.tips, "tips", 7, "max tips referenced besides the previous milestone block (0-7)")
	fs.IntVar(&cfg.publicKeyCount, "publicKeyCount", 2, "signatures per milestone (the node's protocol.milestonePublicKeyCount)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s=<hex key>[,<hex key>...] tanglewatt-coordinator --stateFile coordinator.state [flags]\n", keysEnv)
		fs.PrintDefaults()
	}
	// flag's own error output is multi-line; main prints one line instead.
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fs.Usage()
		}
		return nil, err
	}

	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case cfg.stateFile == "":
		return nil, errors.New("--stateFile is required")
	case cfg.interval < time.Second:
		return nil, fmt.Errorf("--interval %s is too short, the minimum is 1s (milestone timestamps have 1s resolution)", cfg.interval)
	case cfg.tips < 0 || cfg.tips > iotago.BlockMaxParents-1:
		return nil, fmt.Errorf("--tips must be between 0 and %d", iotago.BlockMaxParents-1)
	case cfg.publicKeyCount < 1:
		return nil, errors.New("--publicKeyCount must be at least 1")
	}

	return cfg, nil
}

func main() {
	logger := log.New(os.Stdout, "", log.LstdFlags)
	err := run(logger, os.Args[1:])
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	}
	// one line on stderr, whatever the error chain looks like.
	fmt.Fprintln(os.Stderr, "tanglewatt-coordinator: "+oneLine(err))
	os.Exit(1)
}

func run(logger *log.Logger, args []string) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	keys, err := parseKeys(keysEnv)
	if err != nil {
		return err
	}
	if len(keys) < cfg.publicKeyCount {
		return fmt.Errorf("%s holds %d key(s) but --publicKeyCount is %d", keysEnv, len(keys), cfg.publicKeyCount)
	}
	keyManager, signer := newSigner(keys, cfg.publicKeyCount)

	st, err := loadState(cfg.stateFile)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Dial is lazy; waitForNode below does the retrying.
	conn, err := grpc.Dial(cfg.inxAddress, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("INX address %s: %w", cfg.inxAddress, err)
	}
	defer conn.Close()

	c := &coordinator{
		cfg:        cfg,
		log:        logger,
		client:     inx.NewINXClient(conn),
		signer:     signer,
		keyManager: keyManager,
		state:      st,
	}

	return c.run(ctx)
}
