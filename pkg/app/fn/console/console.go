// Package console wires the console function: the web console's assets and
// sign-in settings (CONTRACT §7) on GET /console/ and /console/{proxy+}.
//
// Unlike its siblings it takes the settings and a logger rather than an
// *app.Env: pkg/app links the DynamoDB client, and this function needs no
// AWS client at all (test/functions checks that it links none), which keeps
// its cold start to reading its embedded files.
package console

import (
	"log/slog"

	assets "github.com/hooksentry/hooksentry/console"
	"github.com/hooksentry/hooksentry/pkg/config"
	pkgconsole "github.com/hooksentry/hooksentry/pkg/console"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
)

// Handler builds the function's handler from the settings, for its main and
// the local stack.
func Handler(cfg config.Config, log *slog.Logger) (lambdahttp.Handler, error) {
	h, err := pkgconsole.New(assets.Assets(), pkgconsole.SettingsFrom(cfg))
	if err != nil {
		return nil, err
	}
	return lambdahttp.Adapt(h, log), nil
}
