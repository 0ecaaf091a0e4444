#!/usr/bin/env node
// Starts the dynalite DynamoDB emulator for HookSentry's local stack.
//
// Usage: node dynalite-server.js --path DIR [--port N] [--host 127.0.0.1]
//        [--createTableMs MS] [--deleteTableMs MS] [--updateTableMs MS]
//
// This replaces dynalite's own cli.js for one reason: cli.js treats
// "--port 0" as "use the default 4567", so it cannot ask the kernel for a
// free port. Here --port 0 (the default) works, and once the server listens
// it prints exactly one line "dynalite listening on http://HOST:PORT" so
// that pkg/local/emulator can learn the real port without racing for it.
//
// With --path the tables live in a LevelDB directory and survive restarts.
// Without it dynalite keeps everything in memory.
"use strict";

const dynalite = require("dynalite");

const numberFlags = new Set(["--port", "--createTableMs", "--deleteTableMs", "--updateTableMs"]);
const stringFlags = new Set(["--host", "--path"]);

function parseArgs(argv) {
  const args = { port: 0, host: "127.0.0.1" };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") {
      console.log("Usage: node dynalite-server.js --path DIR [--port N] [--host 127.0.0.1] " +
        "[--createTableMs MS] [--deleteTableMs MS] [--updateTableMs MS]");
      process.exit(0);
    }
    if (!numberFlags.has(arg) && !stringFlags.has(arg)) {
      throw new Error(`unknown argument: ${arg}`);
    }
    if (i + 1 >= argv.length) {
      throw new Error(`missing value for ${arg}`);
    }
    i++;
    const value = argv[i];
    const key = arg.slice(2);
    if (numberFlags.has(arg)) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) {
        throw new Error(`invalid ${arg}: ${value}`);
      }
      args[key] = n;
    } else {
      args[key] = value;
    }
  }
  if (args.port > 65535) {
    throw new Error(`invalid --port: ${args.port}`);
  }
  return args;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const options = {};
  for (const key of ["path", "createTableMs", "deleteTableMs", "updateTableMs"]) {
    if (args[key] !== undefined) {
      options[key] = args[key];
    }
  }

  const server = dynalite(options);
  // No "error" listener on purpose: if listen fails (EADDRINUSE) Node
  // crashes with the error, and the parent reports the output.
  server.listen(args.port, args.host, () => {
    const port = server.address().port;
    console.log(`dynalite listening on http://${args.host}:${port}`);
  });

  let stopping = false;
  const stop = (signal) => {
    if (stopping) {
      return;
    }
    stopping = true;
    console.log(`dynalite received ${signal}, shutting down`);
    // dynalite's server.close also closes the LevelDB store, which is what
    // makes the next start on the same --path see every write.
    server.closeAllConnections();
    server.close((err) => {
      if (err) {
        console.error(`dynalite close: ${err}`);
        process.exit(1);
      }
      process.exit(0);
    });
    // The parent sends SIGKILL after 5s anyway; exit a bit before that.
    setTimeout(() => {
      console.error("dynalite: close took too long, exiting");
      process.exit(1);
    }, 4000).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

try {
  main();
} catch (err) {
  console.error(`dynalite-server: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
}
