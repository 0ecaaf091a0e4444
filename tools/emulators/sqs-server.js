#!/usr/bin/env node
// Starts the local-aws-sqs emulator for HookSentry's local stack.
//
// Usage: node sqs-server.js [--port N] [--host 127.0.0.1]
//
// --port 0 (the default) lets the kernel pick a free port. Once the server
// listens it prints exactly one line "sqs listening on http://HOST:PORT" so
// that pkg/emulator can learn the real port without racing for it.
//
// State is in memory only: queues and messages are lost when this process
// stops. local-aws-sqs has no on-disk persistence.
"use strict";

const { createSqsServer } = require("local-aws-sqs");

function parseArgs(argv) {
  const args = { port: 0, host: "127.0.0.1" };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) {
        throw new Error(`missing value for ${arg}`);
      }
      i++;
      return argv[i];
    };
    if (arg === "--port") {
      args.port = Number(next());
    } else if (arg === "--host") {
      args.host = next();
    } else if (arg === "--help" || arg === "-h") {
      console.log("Usage: node sqs-server.js [--port N] [--host 127.0.0.1]");
      process.exit(0);
    } else {
      throw new Error(`unknown argument: ${arg}`);
    }
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) {
    throw new Error(`invalid --port: ${args.port}`);
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));

  // createSqsServer never rejects: a listen error (EADDRINUSE) is emitted
  // on the server after the promise was set up, and with no listener Node
  // crashes the process with the error. That is what we want: the parent
  // sees the process exit and reports its output.
  const server = await createSqsServer({
    port: args.port,
    hostname: args.host,
    region: "us-east-1",
    accountId: "123456789012",
    // Real SQS makes you wait 60s before re-creating a deleted queue name;
    // tests re-create queues all the time, so turn that off.
    emulateQueueCreationLifecycle: false,
  });

  const port = server.address().port;
  console.log(`sqs listening on http://${args.host}:${port}`);

  let stopping = false;
  const stop = (signal) => {
    if (stopping) {
      return;
    }
    stopping = true;
    console.log(`sqs received ${signal}, shutting down`);
    // Long-polling ReceiveMessage calls keep connections open for up to
    // 20s; do not wait for them.
    server.closeAllConnections();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err) => {
  console.error(`sqs-server: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
