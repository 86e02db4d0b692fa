package main

// The writer of benchmark P3 (--mode=writer): paced merge patches of data.seq, timed on CLOCK_MONOTONIC.
//
// Workers take sequence numbers in turn; number n is due at start + (n-1)/rate and patches object (n-1) mod
// objects with {"data":{"seq":"<nonce>:<n>"}}. A worker that falls behind sends at once, so at most --workers
// requests are in flight and a server that cannot keep up lowers the achieved rate instead of growing a queue.
// Send and completion times are CLOCK_MONOTONIC nanoseconds, the clock of Python's time.monotonic_ns(), so the
// informer process can subtract them from its handler times.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

type writerOptions struct {
	kubeconfig, namespace, resource, nonce string
	objects, workers                       int
	rate                                   float64
	seconds                                float64
	timeout                                time.Duration
}

// writerResult is the writer's one JSON line. SentNs[i] and DoneNs[i] belong to sequence number i+1; DoneNs is 0
// for a failed write.
type writerResult struct {
	Case       string  `json:"case"`
	OK         bool    `json:"ok"`
	Error      string  `json:"error,omitempty"`
	Nonce      string  `json:"nonce"`
	StartNs    int64   `json:"start_ns"`
	FinishedNs int64   `json:"finished_ns"`
	Writes     int     `json:"writes"`
	Failures   int     `json:"failures"`
	FirstError string  `json:"first_error,omitempty"`
	CPUSeconds float64 `json:"cpu_seconds"`
	SentNs     []int64 `json:"sent_ns"`
	DoneNs     []int64 `json:"done_ns"`
}

// monotonicNs returns CLOCK_MONOTONIC in nanoseconds.
func monotonicNs() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic(err)
	}
	return ts.Nano()
}

func objectName(index int) string {
	return fmt.Sprintf("bench-%05d", index) // bench/target.py object_name
}

func runWriter(opts writerOptions, out *writerResult) error {
	if opts.rate <= 0 || opts.seconds <= 0 || opts.objects <= 0 || opts.workers <= 0 || opts.nonce == "" {
		return fmt.Errorf("writer needs --rate, --seconds, --objects, --workers > 0 and a --nonce")
	}
	config, err := clientcmd.BuildConfigFromFlags("", opts.kubeconfig)
	if err != nil {
		return err
	}
	config.UserAgent = "bench-writer"
	// client-go's transport (TLS from the kubeconfig, HTTP/2, user agent) without its rate limiter or decoding:
	// the pacing below is the only limit, and the response is read and dropped, so the writer's CPU goes to
	// the requests. The response is asked for in protobuf, the cheaper encoding for the server.
	client, err := rest.HTTPClientFor(config)
	if err != nil {
		return err
	}
	base := fmt.Sprintf("%s/api/v1/namespaces/%s/%s/", strings.TrimRight(config.Host, "/"), opts.namespace, opts.resource)
	ctx, cancel := context.WithTimeout(context.Background(), opts.timeout)
	defer cancel()
	// Connect (TLS handshake, HTTP/2) before the clock starts; a GET makes no watch event.
	if err := request(ctx, client, http.MethodGet, base+objectName(0), nil); err != nil {
		return fmt.Errorf("warm-up GET: %w", err)
	}
	total := int(opts.rate * opts.seconds)
	interval := float64(time.Second) / opts.rate
	out.Nonce = opts.nonce
	out.SentNs = make([]int64, total)
	out.DoneNs = make([]int64, total)
	cpuBefore := cpuSeconds()
	start := monotonicNs() + int64(100*time.Millisecond)
	out.StartNs = start
	var next atomic.Int64
	var failures, writes atomic.Int64
	var firstError sync.Once
	var wg sync.WaitGroup
	for range opts.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				seq := int(next.Add(1))
				if seq > total || ctx.Err() != nil {
					return
				}
				due := start + int64(float64(seq-1)*interval)
				if delay := due - monotonicNs(); delay > 0 {
					time.Sleep(time.Duration(delay))
				}
				body := fmt.Appendf(nil, `{"data":{"seq":"%s:%d"}}`, opts.nonce, seq)
				name := objectName((seq - 1) % opts.objects)
				out.SentNs[seq-1] = monotonicNs()
				if err := request(ctx, client, http.MethodPatch, base+name, body); err != nil {
					failures.Add(1)
					firstError.Do(func() { out.FirstError = fmt.Sprintf("seq %d: %v", seq, err) })
					continue
				}
				out.DoneNs[seq-1] = monotonicNs()
				writes.Add(1)
			}
		}()
	}
	wg.Wait()
	out.FinishedNs = monotonicNs()
	out.CPUSeconds = cpuSeconds() - cpuBefore
	out.Failures = int(failures.Load())
	out.Writes = int(writes.Load())
	if ctx.Err() != nil {
		return fmt.Errorf("writer did not finish within %s", opts.timeout)
	}
	return nil
}

// request sends one request (a JSON merge patch when body is not nil), reads the whole response and drops it.
func request(ctx context.Context, client *http.Client, method, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/merge-patch+json")
	}
	req.Header.Set("Accept", "application/vnd.kubernetes.protobuf")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: HTTP %d", method, url, resp.StatusCode)
	}
	return nil
}
