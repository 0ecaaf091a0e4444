// Command local-kms runs the KMS emulator github.com/nsmithuk/local-kms, at
// the version pinned in go.mod, listening on 127.0.0.1 only.
//
// It does what local-kms's own main (start.go and src.Run) does, except
// that upstream always listens on all interfaces (":PORT"), and this one on
// 127.0.0.1:PORT. pkg/local/emulator builds it into bin/local-kms.
//
// Configuration, all optional, through environment variables as upstream:
//
//	PORT            port on 127.0.0.1; 0 = any free port (default 8080)
//	KMS_ACCOUNT_ID  account in ARNs (default 111122223333)
//	KMS_REGION      region in ARNs (default eu-west-2)
//	KMS_DATA_PATH   LevelDB directory (default /tmp/local-kms)
//	KMS_SEED_PATH   seed YAML loaded on start if the file exists; unset
//	                means no seeding (upstream defaults to /init/seed.yaml,
//	                a path meant for its Docker image)
//
// The pre-KMS_ names upstream still accepts (ACCOUNT_ID, REGION, DATA_PATH,
// SEED_PATH) are deprecated there and not read here.
//
// Once listening it logs "Local KMS started on 127.0.0.1:PORT" with the
// port it got; pkg/local/emulator reads the port from that line. On SIGTERM or
// SIGINT it stops serving, closes the database and exits 0.
package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/nsmithuk/local-kms/src"
	"github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"
	log "github.com/sirupsen/logrus"
)

const upstreamModule = "github.com/nsmithuk/local-kms"

// shutdownTimeout bounds how long in-flight requests may take after a
// stop signal. pkg/local/emulator sends SIGKILL 5 seconds after SIGTERM.
const shutdownTimeout = 3 * time.Second

func main() {
	// The same formatter as upstream (and as the logger inside
	// local-kms/src that logs requests).
	logger := log.New()
	logger.SetFormatter(&log.TextFormatter{
		ForceColors:     true,
		FullTimestamp:   true,
		TimestampFormat: "2006-01-02 15:04:05.000",
	})

	logger.Infof("Local KMS %s (listening on 127.0.0.1 only)", upstreamVersion())

	config.AWSAccountId = envOr("KMS_ACCOUNT_ID", "111122223333")
	config.AWSRegion = envOr("KMS_REGION", "eu-west-2")
	dataPath, err := filepath.Abs(envOr("KMS_DATA_PATH", "/tmp/local-kms"))
	if err != nil {
		logger.Fatalf("KMS_DATA_PATH: %v", err)
	}
	config.DatabasePath = dataPath
	seedPath := os.Getenv("KMS_SEED_PATH")
	portText := envOr("PORT", "8080")
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		logger.Fatalf("PORT: %q is not a port number (0-65535)", portText)
	}

	// Like upstream, NewDatabase panics if the LevelDB cannot be opened
	// (for instance because another process holds it).
	database := data.NewDatabase(config.DatabasePath)
	if err := run(logger, database, seedPath, port); err != nil {
		database.Close()
		logger.Fatal(err)
	}
	database.Close()
}

func run(logger *log.Logger, database *data.Database, seedPath string, port int) error {
	if seedPath != "" {
		seed(logger, seedPath, database)
	}

	logger.Infof("Data will be stored in %s", config.DatabasePath)
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	server := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			src.HandleRequest(w, r, database)
		}),
		ReadHeaderTimeout: 30 * time.Second,
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- server.Serve(ln) }()
	// ln.Addr() has the port the kernel picked when PORT is 0.
	logger.Infof("Local KMS started on %s", ln.Addr())

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("Stopping")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		// Requests still running after shutdownTimeout are cut off;
		// that is no reason to fail the exit.
		logger.Warnf("Stopping: %v", err)
	}
	return nil
}

// upstreamVersion is the local-kms module version this binary was built
// with, as recorded in its build info.
func upstreamVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == upstreamModule {
				return dep.Version
			}
		}
	}
	return "(version unknown)"
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
