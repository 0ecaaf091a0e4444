// Command hooksentry-tools installs the pinned local emulators (npm packages
// in tools/emulators, local-kms in bin/) if they are missing. make run and
// make test call it; the emulator package also does it on demand.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hooksentry/hooksentry/pkg/local/emulator"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	root, err := emulator.FindRepoRoot(".")
	if err == nil {
		err = emulator.EnsureTools(ctx, root, os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hooksentry-tools:", err)
		os.Exit(1)
	}
}
