package stack

import (
	"fmt"

	"github.com/hooksentry/hooksentry/pkg/app"
	fnconsole "github.com/hooksentry/hooksentry/pkg/app/fn/console"
	"github.com/hooksentry/hooksentry/pkg/app/fn/createdestination"
	"github.com/hooksentry/hooksentry/pkg/app/fn/deletedestination"
	"github.com/hooksentry/hooksentry/pkg/app/fn/deliver"
	"github.com/hooksentry/hooksentry/pkg/app/fn/eventstats"
	"github.com/hooksentry/hooksentry/pkg/app/fn/getdestination"
	"github.com/hooksentry/hooksentry/pkg/app/fn/getevent"
	"github.com/hooksentry/hooksentry/pkg/app/fn/ingest"
	"github.com/hooksentry/hooksentry/pkg/app/fn/listdestinations"
	"github.com/hooksentry/hooksentry/pkg/app/fn/listevents"
	"github.com/hooksentry/hooksentry/pkg/app/fn/regenerateingesttoken"
	"github.com/hooksentry/hooksentry/pkg/app/fn/replayevent"
	"github.com/hooksentry/hooksentry/pkg/app/fn/replayevents"
	"github.com/hooksentry/hooksentry/pkg/app/fn/rotatesigningsecret"
	fnsweeper "github.com/hooksentry/hooksentry/pkg/app/fn/sweeper"
	"github.com/hooksentry/hooksentry/pkg/app/fn/updatedestination"
	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
	"github.com/hooksentry/hooksentry/pkg/sweeper"
)

// HTTPFunctions maps each HTTP function of template.yaml to the wiring its
// functions/<name>/main.go starts in Lambda (pkg/app/fn). The worker and the
// sweeper are deliver.Worker and fnsweeper.Sweeper.
var HTTPFunctions = map[string]func(*app.Env) (lambdahttp.Handler, error){
	"create-destination":      createdestination.Handler,
	"update-destination":      updatedestination.Handler,
	"get-destination":         getdestination.Handler,
	"list-destinations":       listdestinations.Handler,
	"delete-destination":      deletedestination.Handler,
	"regenerate-ingest-token": regenerateingesttoken.Handler,
	"rotate-signing-secret":   rotatesigningsecret.Handler,
	"list-events":             listevents.Handler,
	"get-event":               getevent.Handler,
	"replay-event":            replayevent.Handler,
	"replay-events":           replayevents.Handler,
	"event-stats":             eventstats.Handler,
	"ingest":                  ingest.Handler,
	// The console's wiring takes settings and a logger, not an Env: its
	// function links no AWS client (pkg/app/fn/console).
	"console": func(env *app.Env) (lambdahttp.Handler, error) { return fnconsole.Handler(env.Config, env.Log) },
}

// Functions builds each function's handler from an Env with the very wiring
// its functions/<name>/main.go uses, for the local gateway, pollers and tests.
type Functions struct{ Env *app.Env }

// HTTP returns an HTTP function's handler.
func (f Functions) HTTP(name string) (lambdahttp.Handler, error) {
	build, ok := HTTPFunctions[name]
	if !ok {
		return nil, fmt.Errorf("no HTTP function %q", name)
	}
	return build(f.Env)
}

// Management returns a management function's handler. It panics on a name
// that is not one of HTTPFunctions (a programming error: the names come
// from httpapi.Routes, which a test keeps equal to template.yaml's).
func (f Functions) Management(name string) lambdahttp.Handler {
	h, err := f.HTTP(name)
	if err != nil {
		panic(err)
	}
	return h
}

// Ingest returns the ingest function's handler.
func (f Functions) Ingest() lambdahttp.Handler { return f.Management("ingest") }

// Worker returns the deliver function's consumer.
func (f Functions) Worker() (*delivery.Worker, error) { return deliver.Worker(f.Env) }

// Sweeper returns the sweeper function.
func (f Functions) Sweeper() *sweeper.Sweeper { return fnsweeper.Sweeper(f.Env) }
