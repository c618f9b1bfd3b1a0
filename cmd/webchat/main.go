// Command webchat runs Genesys web chats server-side: the WebChatService plugin and its
// CXBus-style bus, without a browser.
//
// Usage:
//
//	webchat <command> [flags]
//
// Commands:
//
//	demo   run a short scripted chat against an in-process Genesys Cloud simulator and print
//	       the bus events as they happen
//	serve  run the daemon: sessions over NATS subjects, on an embedded NATS server (JetStream
//	       on, data on disk) or, with --nats-url, on an existing server or cluster
//
// Run "webchat <command> -h" for the flags of a command. Every command exits 0 on success,
// 1 on failure (with a message on stderr) and 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand of the CLI. Each lives in its own file and adds itself to commands
// from an init function.
type command struct {
	// Summary is the one-line description shown by "webchat help".
	Summary string
	// Run parses args (the arguments after the command name) and runs the command. It writes its
	// output to stdout and its diagnostics to stderr, and stops when ctx ends.
	Run func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands maps command names to their implementations.
var commands = map[string]command{}

// errUsage marks a usage error (exit status 2); the message has been printed already.
var errUsage = errors.New("webchat: usage error")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// dispatch runs the command named by args[0] and returns the process exit status.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				_ = c.Run(ctx, []string{"-h"}, stdout, stdout)
				return 0
			}
		}
		usage(stdout)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "webchat: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	err := c.Run(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "webchat %s: %v\n", name, err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: webchat <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].Summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "webchat <command> -h" for the flags of a command.`)
}

// newFlagSet returns a flag set for a command that reports errors instead of exiting and prints
// its usage to stderr.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("webchat "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: webchat %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args into fs; a parse error becomes errUsage (already printed), -h
// becomes flag.ErrHelp, and stray positional arguments are a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected arguments: %v\n", fs.Name(), fs.Args())
		fs.Usage()
		return errUsage
	}
	return nil
}
