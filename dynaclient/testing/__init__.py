"""Test kit: a real local control plane (kube-apiserver + etcd) and a pytest plugin."""
