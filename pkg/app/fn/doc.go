// Package fn holds, one sub-package per Lambda function, the single
// definition of how each function is wired: which collaborators (and so which
// AWS SDK clients) its handler gets. functions/<name>/main.go passes its
// package's Handler to app.Start; the local stack (pkg/local/stack) calls the
// same Handler (or the constructor behind it), so `make run` wires every
// function exactly as Lambda does.
//
// One package per function, not one table, keeps the binaries small: a
// function links only the packages of its own wiring, so only the SDK clients
// it uses (test/functions checks both properties).
package fn
