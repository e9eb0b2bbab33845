// Command tanglewatt-indexer follows one HORNET node over INX and keeps, in
// its own pebble store, what the community needs after the node has pruned
// it: outputs by address, blocks carrying our tagged data, and milestone
// summaries. It serves them read-only over HTTP, with a live event stream.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	inx "github.com/iotaledger/inx/go"
)

// tokenEnv holds the optional API bearer token; an environment variable keeps it out of ps output.
const tokenEnv = "TANGLEWATT_INDEXER_TOKEN"

// defaultTags are the prefixes TangleWatt writes: payment descriptions
// (tanglewatt/pay/v1), market messages (tanglewatt/market/v1) and meter
// channel messages (tw/ch/v1/...).
const defaultTags = "tanglewatt/,tw/ch/"

type config struct {
	inxAddress  string
	dbDir       string
	bindAddress string
	tags        [][]byte
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("tanglewatt-indexer", flag.ContinueOnError)
	cfg := &config{}
	var tags string
	fs.StringVar(&cfg.inxAddress, "inx.address", "127.0.0.1:9029", "INX address of the HORNET node")
	fs.StringVar(&cfg.dbDir, "db", "", "directory of the indexer's own store (required)")
	fs.StringVar(&cfg.bindAddress, "api.bindAddress", "127.0.0.1:9092", "address the read-only REST API listens on")
	fs.StringVar(&tags, "tags", defaultTags, "comma-separated tag prefixes to index (0x-hex or text); empty indexes every tag")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: [%s=<token>] tanglewatt-indexer --db <dir> [flags]\n", tokenEnv)
		fs.PrintDefaults()
	}
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
	case cfg.dbDir == "":
		return nil, errors.New("--db is required")
	}
	if _, _, err := net.SplitHostPort(cfg.bindAddress); err != nil {
		return nil, fmt.Errorf("--api.bindAddress %q is not host:port", cfg.bindAddress)
	}
	for _, t := range strings.Split(tags, ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		tag, err := parseTag("--tags", t)
		if err != nil {
			return nil, err
		}
		cfg.tags = append(cfg.tags, tag)
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
	fmt.Fprintln(os.Stderr, "tanglewatt-indexer: "+oneLine(err))
	os.Exit(1)
}

func run(logger *log.Logger, args []string) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	store, err := openStore(cfg.dbDir)
	if err != nil {
		return err
	}
	defer store.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Listen before following, so the API answers (from the store) at once.
	listener, err := net.Listen("tcp", cfg.bindAddress)
	if err != nil {
		return fmt.Errorf("--api.bindAddress %s: %w", cfg.bindAddress, err)
	}
	events := newBroker()
	node := &nodeView{}
	server := &http.Server{
		Handler:           (&api{store: store, events: events, node: node, token: os.Getenv(tokenEnv)}).handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// requests end with the process, so open streams do not hold up shutdown.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.Serve(listener) }()
	logger.Printf("REST API on http://%s (token %s)", listener.Addr(), map[bool]string{true: "required", false: "not set"}[os.Getenv(tokenEnv) != ""])

	// Dial is lazy; the follower retries until the node answers.
	conn, err := grpc.Dial(cfg.inxAddress, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("INX address %s: %w", cfg.inxAddress, err)
	}
	defer conn.Close()
	f := &follower{client: inx.NewINXClient(conn), store: store, log: logger, tags: cfg.tags, events: events, node: node}

	followErr := make(chan error, 1)
	go func() { followErr <- f.run(ctx) }()

	select {
	case err = <-followErr:
	case err = <-serveErr:
	case <-ctx.Done():
		err = <-followErr
	}
	stop()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = server.Shutdown(shutdownCtx)
	if cursor, _, cerr := store.Cursor(); cerr == nil {
		logger.Printf("stopping at milestone %d", cursor)
	}

	return err
}
