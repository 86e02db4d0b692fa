// Command controllerruntime-sawtooth is the controller-runtime reference of benchmark P7: the Sawtooth operator of
// examples/sawtooth_operator.py (a finalizer that keeps an external record, one ConfigMap per Sawtooth with
// data.size, status.observedSize through the status subresource), written the way controller-runtime users do:
// a builder with For and Owns, an unstructured client that reads from the manager's cache.
//
// It runs until interrupted; the kubeconfig comes from --kubeconfig or $KUBECONFIG (controller-runtime's flag). Client-side rate limiting is lifted (QPS and burst 1e6) so that it measures the same thing
// as the Python operators, which have none.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

const finalizerName = "demo.dynaclient.dev/external-record"

var sawtoothGVK = schema.GroupVersionKind{Group: "demo.dynaclient.dev", Version: "v1", Kind: "Sawtooth"}

type reconciler struct {
	client  client.Client
	records string
}

func (r *reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	sawtooth := &unstructured.Unstructured{}
	sawtooth.SetGroupVersionKind(sawtoothGVK)
	if err := r.client.Get(ctx, req.NamespacedName, sawtooth); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	record := filepath.Join(r.records, req.Namespace+"_"+req.Name)
	if !sawtooth.GetDeletionTimestamp().IsZero() {
		if controllerutil.ContainsFinalizer(sawtooth, finalizerName) {
			if err := os.Remove(record); err != nil && !os.IsNotExist(err) {
				return ctrl.Result{}, err
			}
			controllerutil.RemoveFinalizer(sawtooth, finalizerName)
			return ctrl.Result{}, r.client.Update(ctx, sawtooth)
		}
		return ctrl.Result{}, nil
	}
	if controllerutil.AddFinalizer(sawtooth, finalizerName) {
		if err := r.client.Update(ctx, sawtooth); err != nil {
			return ctrl.Result{}, err
		}
	}
	size, _, _ := unstructured.NestedInt64(sawtooth.Object, "spec", "size")
	configMap := &corev1.ConfigMap{}
	configMap.Namespace, configMap.Name = req.Namespace, req.Name
	if _, err := controllerutil.CreateOrUpdate(ctx, r.client, configMap, func() error {
		configMap.Data = map[string]string{"size": strconv.FormatInt(size, 10)}
		return controllerutil.SetControllerReference(sawtooth, configMap, r.client.Scheme())
	}); err != nil {
		return ctrl.Result{}, err
	}
	if err := os.WriteFile(record, []byte(strconv.FormatInt(size, 10)), 0o644); err != nil {
		return ctrl.Result{}, err
	}
	observed, found, _ := unstructured.NestedInt64(sawtooth.Object, "status", "observedSize")
	if !found || observed != size {
		patch := client.MergeFrom(sawtooth.DeepCopy())
		if err := unstructured.SetNestedField(sawtooth.Object, size, "status", "observedSize"); err != nil {
			return ctrl.Result{}, err
		}
		if err := r.client.Status().Patch(ctx, sawtooth, patch); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, nil
}

func main() {
	namespace := flag.String("namespace", "", "namespace to watch")
	records := flag.String("records", "", "directory of the external records")
	workers := flag.Int("workers", 8, "MaxConcurrentReconciles")
	flag.Parse()
	if err := run(*namespace, *records, *workers); err != nil {
		fmt.Fprintln(os.Stderr, strings.TrimSpace(err.Error()))
		os.Exit(1)
	}
}

func run(namespace, records string, workers int) error {
	config, err := ctrl.GetConfig() // --kubeconfig or $KUBECONFIG, as every controller-runtime binary
	if err != nil {
		return err
	}
	config.QPS, config.Burst = 1e6, 1e6
	manager, err := ctrl.NewManager(config, ctrl.Options{
		Cache:                  cache.Options{DefaultNamespaces: map[string]cache.Config{namespace: {}}},
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return err
	}
	sawtooth := &unstructured.Unstructured{}
	sawtooth.SetGroupVersionKind(sawtoothGVK)
	err = ctrl.NewControllerManagedBy(manager).
		For(sawtooth).
		Owns(&corev1.ConfigMap{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
		Complete(&reconciler{client: manager.GetClient(), records: records})
	if err != nil {
		return err
	}
	return manager.Start(ctrl.SetupSignalHandler())
}
