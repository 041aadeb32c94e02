#!/usr/bin/env python3
"""Regenerate kubernetes/prometheusrule.yaml from prometheus/*.yml (needs PyYAML).
deploy_test.go fails when the two drift apart."""
import yaml
alerts = yaml.safe_load(open('prometheus/alerts.yml'))
rec = yaml.safe_load(open('prometheus/recording.yml'))
pr = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "ece-exporter"},
      "spec": {"groups": rec["groups"] + alerts["groups"]}}
with open('kubernetes/prometheusrule.yaml', 'w') as f:
    f.write("# Generated from deploy/prometheus/*.yml by deploy/gen-prometheusrule.py; do not edit.\n")
    yaml.safe_dump(pr, f, sort_keys=False, width=200)
