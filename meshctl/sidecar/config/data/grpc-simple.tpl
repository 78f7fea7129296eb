{{- /*
  meshctl's built-in grpc-simple template (`inject.istio.io/templates: grpc-simple`): proxyless
  gRPC without any Istio agent. An init container writes a plain-text xDS bootstrap file
  (istiod's port 15010, insecure channel, no certificates) into a shared volume; every container
  of the pod is pointed at it (GRPC_XDS_BOOTSTRAP) with verbose gRPC logging. Meant for trying
  proxyless gRPC out, not for mTLS: use grpc-agent for that. No istio-proxy container is added,
  so nothing else of the sidecar applies (no labels, no istio.io/rev, no probes rewritten).
  It produces what Istio's default "grpc-simple" template produces with Istio's default values
  (see docs/builtin-profile.md).

  The bootstrap script and the init container's image are Istio's, character for character:
  they are data the golden suite compares, not something to reword. The same goes for the
  trailing newline of ISTIO_NAMESPACE (Istio writes it as a block scalar).
*/ -}}
metadata:
  annotations:
    sidecar.istio.io/rewriteAppHTTPProbers: "false"
spec:
  initContainers:
  - name: grpc-bootstrap-init
    image: busybox:1.28
    volumeMounts:
    - {name: grpc-io-proxyless-bootstrap, mountPath: /var/lib/grpc/data/}
    env:
    - name: INSTANCE_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: POD_NAMESPACE
      valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
    - name: ISTIO_NAMESPACE
      value: |
        {{ .Values.global.istioNamespace }}
    command:
    - sh
    - -c
    - |-
      NODE_ID="sidecar~${INSTANCE_IP}~${POD_NAME}.${POD_NAMESPACE}~cluster.local"
      SERVER_URI="dns:///istiod.${ISTIO_NAMESPACE}.svc:15010"
      echo '
      {
        "xds_servers": [
          {
            "server_uri": "'${SERVER_URI}'",
            "channel_creds": [{"type": "insecure"}],
            "server_features" : ["xds_v3"]
          }
        ],
        "node": {
          "id": "'${NODE_ID}'",
          "metadata": {
            "GENERATOR": "grpc"
          }
        }
      }' > /var/lib/grpc/data/bootstrap.json
  {{- /* every container, istio-proxy included if the pod declares one (as Istio's does) */}}
  containers:
{{- range .Spec.Containers }}
  - name: {{ .Name | quote }}
    env:
    - {name: GRPC_XDS_BOOTSTRAP, value: /var/lib/grpc/data/bootstrap.json}
    - {name: GRPC_GO_LOG_VERBOSITY_LEVEL, value: "99"}
    - {name: GRPC_GO_LOG_SEVERITY_LEVEL, value: info}
    volumeMounts:
    - {name: grpc-io-proxyless-bootstrap, mountPath: /var/lib/grpc/data/}
{{- end }}
  volumes:
  - {name: grpc-io-proxyless-bootstrap, emptyDir: {}}
