#!/usr/bin/env node
// Starts the local-aws-sqs emulator for HookSentry's local stack.
//
// Usage: node sqs-server.js [--port N] [--host 127.0.0.1] [--state-dir DIR]
//
// --port 0 (the default) lets the kernel pick a free port. Once the server
// listens it prints exactly one line "sqs listening on http://HOST:PORT" so
// that pkg/local/emulator can learn the real port without racing for it.
//
// local-aws-sqs keeps queues and messages in memory only. With --state-dir,
// this wrapper makes them durable: every change to a queue or a message is
// appended, as one JSON line, to DIR/journal.jsonl before the request that
// made it is answered, and the journal is replayed on start. See
// README.md ("SQS durability") for what is kept and what is not.
"use strict";

const fs = require("fs");
const http = require("http");
const path = require("path");
const { createRequestHandler } = require("local-aws-sqs");

function parseArgs(argv) {
  const args = { port: 0, host: "127.0.0.1", stateDir: "" };
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
    } else if (arg === "--state-dir") {
      args.stateDir = next();
    } else if (arg === "--help" || arg === "-h") {
      console.log("Usage: node sqs-server.js [--port N] [--host 127.0.0.1] [--state-dir DIR]");
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

// Queue attributes a CreateQueue may set: what a queue is restored with.
const QUEUE_ATTRIBUTES = [
  "DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "Policy",
  "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout", "RedrivePolicy",
  "RedriveAllowPolicy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds",
  "SqsManagedSseEnabled", "FifoQueue", "ContentBasedDeduplication",
  "DeduplicationScope", "FifoThroughputLimit",
];

// System attributes a message carries from its sender (or from a redrive)
// that must come back with it; the emulator keeps only their values.
const SYSTEM_ATTRIBUTES = ["AWSTraceHeader", "DeadLetterQueueSourceArn"];

// The journal's state, replayed from the file on start and kept up to date
// as changes are appended, so that compaction is a plain rewrite.
//   queues:   name -> {attrs, tags}        (insertion order = creation order)
//   messages: id -> {q, body, mattrs, sattrs, group, dedup, sent, visibleAt, recv, firstRecv}
class Journal {
  constructor(dir) {
    this.file = path.join(dir, "journal.jsonl");
    this.queues = new Map();
    this.messages = new Map();
    this.ops = 0; // lines appended since the last compaction
    this.bytes = 0; // and their size
    this.live = 0; // about the size of the messages' lines in a compacted journal
    this.fd = -1;
    fs.mkdirSync(dir, { recursive: true });
    this.load();
  }

  load() {
    let text;
    try {
      text = fs.readFileSync(this.file, "utf8");
    } catch (err) {
      if (err.code === "ENOENT") {
        return;
      }
      throw err;
    }
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] === "") {
        continue;
      }
      let op;
      try {
        op = JSON.parse(lines[i]);
      } catch (err) {
        // Only the last line can be cut short (by a kill in mid-write).
        if (i >= lines.length - 2) {
          console.log(`sqs journal: ignoring a partial last line`);
          continue;
        }
        throw new Error(`${this.file}:${i + 1}: ${err.message}`);
      }
      this.apply(op);
    }
  }

  apply(op) {
    switch (op.op) {
      case "queue":
        this.queues.set(op.name, { attrs: op.attrs, tags: op.tags });
        break;
      case "dropQueue":
        this.queues.delete(op.name);
        this.dropMessages(op.name);
        break;
      case "purge":
        this.dropMessages(op.q);
        break;
      case "add":
        // Message ids are unique across queues: a redrive to the
        // dead-letter queue keeps the id, and moves the message.
        this.forget(op.m.id);
        this.messages.set(op.m.id, op.m);
        this.live += size(op.m);
        break;
      case "del": {
        const m = this.messages.get(op.id);
        if (m && m.q === op.q) {
          this.forget(op.id);
        }
        break;
      }
      case "recv": {
        const m = this.messages.get(op.id);
        if (m && m.q === op.q) {
          m.recv = op.n;
          m.firstRecv = op.first;
        }
        break;
      }
      default:
        throw new Error(`unknown journal operation ${JSON.stringify(op.op)}`);
    }
  }

  dropMessages(queue) {
    for (const [id, m] of this.messages) {
      if (m.q === queue) {
        this.forget(id);
      }
    }
  }

  forget(id) {
    const m = this.messages.get(id);
    if (m) {
      this.live -= size(m);
      this.messages.delete(id);
    }
  }

  // append applies op and writes it to the journal with one write(2): once
  // it returns, the change survives the death of this process.
  append(op) {
    this.apply(op);
    const line = Buffer.from(JSON.stringify(op) + "\n");
    fs.writeSync(this.fd, line);
    this.ops++;
    this.bytes += line.length;
    // Compact once the journal is mostly history: by lines (many small
    // messages come and go) or by bytes (large bodies).
    if ((this.ops > 10000 && this.ops > 4 * (this.messages.size + this.queues.size)) ||
      (this.bytes > 64 << 20 && this.bytes > 4 * this.live)) {
      this.compact();
    }
  }



  // compact rewrites the journal as the current state: to a temporary file,
  // flushed to disk, then renamed over the journal.
  compact() {
    const tmp = this.file + ".tmp";
    const fd = fs.openSync(tmp, "w", 0o600);
    const chunks = [];
    for (const [name, q] of this.queues) {
      chunks.push(JSON.stringify({ op: "queue", name, attrs: q.attrs, tags: q.tags }));
    }
    for (const m of this.messages.values()) {
      chunks.push(JSON.stringify({ op: "add", m }));
    }
    fs.writeSync(fd, chunks.length ? chunks.join("\n") + "\n" : "");
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, this.file);
    if (this.fd >= 0) {
      fs.closeSync(this.fd);
    }
    this.fd = fs.openSync(this.file, "a", 0o600);
    this.ops = 0;
    this.bytes = 0;
  }
}

// size estimates a message's line in the journal.
function size(m) {
  return 256 + (m.body ? m.body.length : 0) + (m.mattrs ? JSON.stringify(m.mattrs).length : 0);
}

function queueConfig(q) {
  const all = q.getAttributes(["All"]);
  const attrs = {};
  for (const name of QUEUE_ATTRIBUTES) {
    if (all[name] !== undefined) {
      attrs[name] = all[name];
    }
  }
  return { attrs, tags: { ...q.Tags } };
}

function receiptMessageId(receiptHandle) {
  // The emulator's receipt handles are base64 of a UUID followed by JSON
  // naming the message (see local-aws-sqs's Queue); it decodes them the same way.
  try {
    const text = Buffer.from(String(receiptHandle), "base64").toString("utf8");
    return JSON.parse(text.slice(text.indexOf("{"))).MessageId;
  } catch {
    return undefined;
  }
}

function messageEntry(queue, record, delaySeconds) {
  const sattrs = {};
  for (const name of SYSTEM_ATTRIBUTES) {
    const v = record.attributes[name];
    if (v !== undefined) {
      sattrs[name] = { DataType: "String", StringValue: v };
    }
  }
  const sent = Number(record.attributes.SentTimestamp) || Date.now();
  return {
    id: record.MessageId,
    q: queue.QueueName,
    body: record.MessageBody,
    mattrs: record.MessageAttributes,
    sattrs: Object.keys(sattrs).length ? sattrs : undefined,
    group: record.attributes.MessageGroupId,
    dedup: record.attributes.MessageDeduplicationId,
    sent,
    visibleAt: sent + delaySeconds * 1000,
    recv: Number(record.attributes.ApproximateReceiveCount) || 0,
    firstRecv: record.attributes.ApproximateFirstReceiveTimestamp || "",
  };
}

// Persistence wires a Journal to a running local-aws-sqs service.
class Persistence {
  constructor(service, journal) {
    this.service = service;
    this.journal = journal;
    this.known = new Map(); // Queue object -> JSON of its last journaled config
  }

  // restore re-creates the journal's queues and messages in the service.
  // In-flight messages come back visible; delayed ones keep what is left
  // of their delay; expired ones are dropped.
  restore() {
    const now = Date.now();
    let restored = 0;
    const byQueue = new Map(this.service.Queues.map((q) => [q.QueueName, q]));
    const messages = [...this.journal.messages.values()].sort((a, b) => a.sent - b.sent);
    for (const m of messages) {
      const queue = byQueue.get(m.q);
      if (!queue || m.sent + queue.MessageRetentionPeriod * 1000 <= now) {
        this.journal.forget(m.id);
        continue;
      }
      const w = queue.setRecord({
        MessageBody: m.body,
        MessageAttributes: m.mattrs,
        MessageSystemAttributes: m.sattrs,
        MessageGroupId: m.group,
        MessageDeduplicationId: m.dedup,
        DelaySeconds: Math.max(0, m.visibleAt - now) / 1000,
      }, m.id);
      if (w && w.record && w.record.attributes) {
        w.record.attributes.SentTimestamp = String(m.sent);
        w.record.attributes.ApproximateReceiveCount = String(m.recv || 0);
        w.record.attributes.ApproximateFirstReceiveTimestamp = m.firstRecv || "";
      }
      restored++;
    }
    this.journal.compact();
    this.sync();
    return { queues: this.journal.queues.size, messages: restored };
  }

  // sync journals queues created, changed or deleted since the last call,
  // and hooks new queues' message operations. It runs before every response.
  sync() {
    const current = new Set(this.service.Queues);
    // Deletions first: a queue deleted and created again under the same
    // name is a new object, and must not inherit the old one's messages.
    for (const q of [...this.known.keys()]) {
      if (!current.has(q)) {
        this.known.delete(q);
        this.journal.append({ op: "dropQueue", name: q.QueueName });
      }
    }
    for (const q of current) {
      const cfg = queueConfig(q);
      const key = JSON.stringify(cfg);
      if (this.known.get(q) === key) {
        continue;
      }
      if (!this.known.has(q)) {
        this.hook(q);
      }
      this.known.set(q, key);
      const prev = this.journal.queues.get(q.QueueName);
      if (!prev || JSON.stringify({ attrs: prev.attrs, tags: prev.tags }) !== key) {
        this.journal.append({ op: "queue", name: q.QueueName, attrs: cfg.attrs, tags: cfg.tags });
      }
    }
  }

  // hook wraps the queue's message operations so that each change is
  // journaled synchronously, before the emulator answers the request.
  hook(queue) {
    const journal = this.journal;
    const newRecord = queue.newRecord;
    queue.newRecord = (record, delay) => {
      const w = newRecord(record, delay);
      const d = Number.isNaN(Number(delay)) ? queue.DelaySeconds : Number(delay);
      journal.append({ op: "add", m: messageEntry(queue, record, d) });
      return w;
    };
    const del = queue.delete;
    queue.delete = function (receiptHandle) {
      const ok = del.call(this, receiptHandle);
      const id = receiptMessageId(receiptHandle);
      if (ok && id !== undefined) {
        journal.append({ op: "del", q: queue.QueueName, id });
      }
      return ok;
    };
    const receive = queue.receive;
    queue.receive = async function (...args) {
      const records = await receive.apply(this, args);
      for (const r of records || []) {
        journal.append({
          op: "recv", q: queue.QueueName, id: r.MessageId,
          n: Number(r.attributes.ApproximateReceiveCount) || 0,
          first: r.attributes.ApproximateFirstReceiveTimestamp || "",
        });
      }
      return records;
    };
    // PurgeQueue answers at once and empties the queue within 60 seconds,
    // as SQS does; the messages it covers are gone for the journal at once.
    const purge = queue.purge;
    queue.purge = (cb) => {
      const started = purge(cb);
      if (started) {
        journal.append({ op: "purge", q: queue.QueueName });
      }
      return started;
    };
    const clear = queue.clearRecords;
    queue.clearRecords = function () {
      clear.call(this);
      journal.append({ op: "purge", q: queue.QueueName });
    };
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));

  const options = {
    port: args.port,
    hostname: args.host,
    region: "us-east-1",
    accountId: "123456789012",
    // Real SQS makes you wait 60s before re-creating a deleted queue name;
    // tests re-create queues all the time, so turn that off.
    emulateQueueCreationLifecycle: false,
  };
  let persistence;
  let restored = { queues: 0, messages: 0 };
  let handler;
  if (args.stateDir) {
    const journal = new Journal(args.stateDir);
    // Queues are re-created through the emulator's own CreateQueue code,
    // which its "queues" option runs on each entry in order. Checking that
    // a redrive policy's dead-letter queue exists waits until all are back.
    const { service, requestHandler } = createRequestHandler({
      ...options,
      queues: [...journal.queues].map(([name, q]) => ({ QueueName: name, Attributes: q.attrs, tags: q.tags })),
      validateDlqDestination: false,
    });
    service.validateDlqDestination = true;
    persistence = new Persistence(service, journal);
    restored = persistence.restore();
    handler = (req, res) => {
      const end = res.end;
      res.end = function (...a) {
        persistence.sync();
        return end.apply(this, a);
      };
      return requestHandler(req, res);
    };
    handler.service = service;
  } else {
    const { service, requestHandler } = createRequestHandler(options);
    handler = requestHandler;
    handler.service = service;
  }

  const server = http.createServer(handler);
  await new Promise((resolve) => server.listen(args.port, args.host, resolve));
  // Queue URLs are built from the service's port: the one we got.
  const port = server.address().port;
  handler.service.PORT = port;
  if (args.stateDir) {
    console.log(`sqs state in ${args.stateDir}: restored ${restored.queues} queues, ${restored.messages} messages`);
  }
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
