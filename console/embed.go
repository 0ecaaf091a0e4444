// Package console holds the web console's static assets (CONTRACT §7),
// built from this directory with no runtime download, and embedded so
// that the console Lambda and the local gateway serve the same bytes.
package console

import (
	"embed"
	"io/fs"
)

//go:embed static
var assets embed.FS

// Assets are the console's files, rooted at static/ (index.html first).
func Assets() fs.FS {
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // static/ is embedded above: it always exists
	}
	return sub
}
