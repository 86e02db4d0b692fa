// Command clientgo-informer is the client-go reference for benchmark P2: it starts a dynamic shared informer
// on one resource in one namespace, waits until it has synced, and prints one JSON result line.
//
// With --mode=writer it is instead the paced writer of benchmark P3 (writer.go), run outside the Python
// process whose informer is measured, so that the writer shares no interpreter lock with it.
//
// The informer is the one controllers use: k8s.io/client-go/dynamic/dynamicinformer (a SharedIndexInformer
// over unstructured objects, paginated initial list of 500 through tools/pager as in tools/cache/reflector.go).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/clientcmd"
)

type result struct {
	Case    string             `json:"case"`
	OK      bool               `json:"ok"`
	Error   string             `json:"error,omitempty"`
	Metrics map[string]float64 `json:"metrics"`
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig path")
	namespace := flag.String("namespace", "", "namespace to watch")
	resource := flag.String("resource", "configmaps", "resource (core group, v1)")
	expected := flag.Int("objects", 0, "objects expected in the cache (writer: objects patched in turn)")
	timeout := flag.Duration("timeout", 5*time.Minute, "time limit for the sync (writer: for the whole run)")
	mode := flag.String("mode", "informer", "informer (P2) or writer (P3)")
	rate := flag.Float64("rate", 1000, "writer: patches per second")
	seconds := flag.Float64("seconds", 30, "writer: duration of the schedule")
	workers := flag.Int("workers", 16, "writer: concurrent requests at most")
	nonce := flag.String("nonce", "", "writer: prefix of every data.seq value")
	flag.Parse()
	if *mode == "writer" {
		opts := writerOptions{
			kubeconfig: *kubeconfig, namespace: *namespace, resource: *resource, nonce: *nonce,
			objects: *expected, workers: *workers, rate: *rate, seconds: *seconds, timeout: *timeout,
		}
		out := writerResult{Case: "p3-writer"}
		if err := runWriter(opts, &out); err != nil {
			out.Error = err.Error()
		} else {
			out.OK = true
		}
		printLine(out, out.OK)
		return
	}
	out := result{Case: "p2-clientgo-informer", Metrics: map[string]float64{}}
	if err := run(*kubeconfig, *namespace, *resource, *expected, *timeout, out.Metrics); err != nil {
		out.Error = err.Error()
	} else {
		out.OK = true
	}
	printLine(out, out.OK)
}

// printLine prints the one JSON result line, and exits 1 unless ok.
func printLine(out any, ok bool) {
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
	if !ok {
		os.Exit(1)
	}
}

func run(kubeconfig, namespace, resource string, expected int, timeout time.Duration, metrics map[string]float64) error {
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	// Default client-side rate limits (QPS 5) do not matter here: the informer makes two requests per page.
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		return err
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpuBefore := cpuSeconds()
	started := time.Now()
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(client, 0, namespace, nil)
	informer := factory.ForResource(schema.GroupVersionResource{Version: "v1", Resource: resource}).Informer()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	factory.Start(ctx.Done())
	// cache.WaitForCacheSync polls every 100 ms (tools/cache/shared_informer.go syncedPollPeriod), which would
	// round the figure up to the next 100 ms; poll HasSynced every millisecond instead.
	for !informer.HasSynced() {
		if ctx.Err() != nil {
			return fmt.Errorf("informer did not sync within %s", timeout)
		}
		time.Sleep(time.Millisecond)
	}
	metrics["seconds"] = time.Since(started).Seconds()
	metrics["cpu_seconds"] = cpuSeconds() - cpuBefore
	held := len(informer.GetStore().ListKeys())
	metrics["objects"] = float64(held)
	if expected > 0 && held != expected {
		return fmt.Errorf("cache holds %d objects, expected %d", held, expected)
	}
	var after runtime.MemStats
	runtime.GC()
	debug.FreeOSMemory()
	runtime.ReadMemStats(&after)
	metrics["heap_bytes"] = float64(after.HeapAlloc) - float64(before.HeapAlloc)
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err == nil {
		metrics["peak_rss_bytes"] = float64(usage.Maxrss) * 1024
	}
	cancel()
	factory.Shutdown()
	return nil
}

func cpuSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano()).Seconds()
}
