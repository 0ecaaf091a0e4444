// Command hooksentry-tools installs the pinned local emulators (npm packages
// in tools/emulators, local-kms in bin/) if they are missing. make run and
// make test call it; the emulator package also does it on demand. With
// -browser it installs the console's browser-test driver instead
// (playwright-core in tools/browser; make browser-deps).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/hooksentry/hooksentry/pkg/local/emulator"
)

func main() {
	browser := flag.Bool("browser", false, "install the browser tests' npm packages (tools/browser) instead of the emulators")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	root, err := emulator.FindRepoRoot(".")
	if err == nil {
		if *browser {
			err = emulator.EnsureBrowserTools(ctx, root, os.Stderr)
		} else {
			err = emulator.EnsureTools(ctx, root, os.Stderr)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hooksentry-tools:", err)
		os.Exit(1)
	}
}
