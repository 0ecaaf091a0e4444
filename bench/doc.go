// Package bench holds HookSentry's benchmarks (`make bench`): AWS requests
// and cost per delivered webhook on the local stack, delivery CPU per event
// against a bare net/http client, and cold start and binary size of every
// Lambda function. Results and how to read them: docs/PERFORMANCE.md.
//
// Every benchmark does a fixed amount of work once, whatever b.N is; run
// them with -benchtime=1x as the Makefile does.
package bench
