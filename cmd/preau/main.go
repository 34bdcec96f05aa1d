// Command preau is the one Préau binary: `preau serve` runs the site and its
// real-time parts, `preau import` loads the directory from CSV files.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `Préau — espace numérique de travail.

Usage:
  preau serve [flags]     run the server (--demo for a ready demo school)
  preau import [flags]    import pupils, parents or teachers from a CSV file
  preau loadtest chat [flags]  load a local demo server's chat and report its figures
  preau loadtest sfu [flags]   load a local demo server's live lessons (SFU) and report its figures
  preau loadtest files [flags] load a local demo server's Documents (uploads, downloads) and report its figures
  preau demo-scale [flags]     fill a database with the demo scaled to a département (30,000 pupils)
  preau help              this text

Run "preau <command> --help" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:])
	switch {
	case errors.Is(err, flag.ErrHelp):
		// --help printed the usage: not a failure.
	case err != nil:
		fmt.Fprintln(os.Stderr, "preau:", err)
		stop()
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("a command is needed")
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:])
	case "import":
		return runImport(ctx, args[1:])
	case "loadtest":
		return runLoadtest(ctx, args[1:])
	case "demo-scale":
		return runDemoScale(ctx, args[1:])
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
