{{- /*
  meshctl's built-in grpc-agent template (`inject.istio.io/templates: grpc-agent`): proxyless
  gRPC with the Istio agent. The application's gRPC library talks xDS itself; the agent runs
  beside it without Envoy (DISABLE_ENVOY), serves the xDS bootstrap and the workload
  certificates through a shared volume, and answers the readiness probe on the status port.
  It produces what Istio's default "grpc-agent" template produces with Istio's default values
  (see docs/builtin-profile.md).

  Compared with the sidecar: no traffic capture (no istio-init), no Envoy (no admin/prometheus
  port, no startup probe, no drain), the application containers get the bootstrap variables and
  mounts, and probes are not rewritten (sidecar.istio.io/rewriteAppHTTPProbers: "false"). The
  security.istio.io/tlsMode label is not set: only the user knows whether the application
  initialised gRPC with mTLS.

  Pod annotations it honours: sidecar.istio.io/proxyImage, logLevel, componentLogLevel,
  agentLogLevel, proxyCPU/proxyMemory(+Limit), userVolume, userVolumeMount, bootstrapOverride
  (the volume only), status.sidecar.istio.io/port, readiness.status.sidecar.istio.io/*.

  Status port "0" (Istio's behaviour, kept): no readiness probe, and with it no resources and no
  volume mounts on the agent, as Istio's grpc-agent template closes that condition after them.
*/ -}}
{{- $a := .ObjectMeta.Annotations -}}
{{- $l := .ObjectMeta.Labels -}}
{{- $v := .Values.global -}}
{{- $p := .Values.global.proxy -}}
{{- $agentLog := printf "--log_output_level=%s" (annotation .ObjectMeta `sidecar.istio.io/agentLogLevel` $v.logging.level) -}}
{{- $trust := valueOrDefault .MeshConfig.TrustDomain $v.trustDomain -}}
{{- $gke := eq $v.caName "GkeWorkloadCertificate" -}}
{{- $istiodCA := eq $v.pilotCertProvider "istiod" -}}
{{- $statusOn := ne (annotation .ObjectMeta `status.sidecar.istio.io/port` $p.statusPort) `0` -}}
{{- $apps := list -}}
{{- range .Spec.Containers }}{{ if ne .Name "istio-proxy" }}{{ $apps = append $apps .Name }}{{ end }}{{ end -}}
{{- /* ISTIO_META_POD_PORTS: one JSON object per declared port */ -}}
{{- $ports := list -}}
{{- range .Spec.Containers }}{{ range .Ports }}{{ with structToJSON . }}{{ $ports = append $ports . }}{{ end }}{{ end }}{{ end -}}
{{- define "meshctl.resources" -}}
{{- $a := .ObjectMeta.Annotations -}}
{{- if or (isset $a `sidecar.istio.io/proxyCPU`) (isset $a `sidecar.istio.io/proxyMemory`) (isset $a `sidecar.istio.io/proxyCPULimit`) (isset $a `sidecar.istio.io/proxyMemoryLimit`) }}
      {{- if or (isset $a `sidecar.istio.io/proxyCPU`) (isset $a `sidecar.istio.io/proxyMemory`) }}
      requests:
        {{- with index $a `sidecar.istio.io/proxyCPU` }}
        cpu: {{ . | quote }}
        {{- end }}
        {{- with index $a `sidecar.istio.io/proxyMemory` }}
        memory: {{ . | quote }}
        {{- end }}
      {{- end }}
      {{- if or (isset $a `sidecar.istio.io/proxyCPULimit`) (isset $a `sidecar.istio.io/proxyMemoryLimit`) }}
      limits:
        {{- with index $a `sidecar.istio.io/proxyCPULimit` }}
        cpu: {{ . | quote }}
        {{- end }}
        {{- with index $a `sidecar.istio.io/proxyMemoryLimit` }}
        memory: {{ . | quote }}
        {{- end }}
      {{- end }}
{{- else if .Values.global.proxy.resources }}
      {{ toYaml (omitNil .Values.global.proxy.resources) | indent 6 }}
{{- end }}
{{- end }}
metadata:
  labels:
    service.istio.io/canonical-name: {{ index $l `service.istio.io/canonical-name` | default (index $l `app.kubernetes.io/name`) | default (index $l `app`) | default .DeploymentMeta.Name | quote }}
    service.istio.io/canonical-revision: {{ index $l `service.istio.io/canonical-revision` | default (index $l `app.kubernetes.io/version`) | default (index $l `version`) | default "latest" | quote }}
  annotations:
    istio.io/rev: {{ .Revision | default "default" | quote }}
{{- if $apps }}
{{- if not (isset $a `kubectl.kubernetes.io/default-logs-container`) }}
    kubectl.kubernetes.io/default-logs-container: {{ first $apps | quote }}
{{- end }}
{{- if not (isset $a `kubectl.kubernetes.io/default-container`) }}
    kubectl.kubernetes.io/default-container: {{ first $apps | quote }}
{{- end }}
{{- end }}
    {{- /* the agent serves no rewritten probes: the application's probes stay as they are */}}
    sidecar.istio.io/rewriteAppHTTPProbers: "false"
spec:
  containers:
  - name: istio-proxy
{{- $proxyImage := annotation .ObjectMeta `sidecar.istio.io/proxyImage` $p.image }}
    image: {{ if contains "/" $proxyImage }}{{ $proxyImage | quote }}{{ else }}{{ .ProxyImage | quote }}{{ end }}
    ports:
    - {name: mesh-metrics, containerPort: 15020, protocol: TCP}
    args:
    - proxy
    - sidecar
    - --domain
    - $(POD_NAMESPACE).svc.{{ $p.clusterDomain }}
    - {{ printf "--proxyLogLevel=%s" (annotation .ObjectMeta `sidecar.istio.io/logLevel` $p.logLevel) | quote }}
    - {{ printf "--proxyComponentLogLevel=%s" (annotation .ObjectMeta `sidecar.istio.io/componentLogLevel` $p.componentLogLevel) | quote }}
    - {{ $agentLog | quote }}
{{- with $v.sts.servicePort }}
    - --stsPort={{ . }}
{{- end }}
{{- if $v.logAsJson }}
    - --log_as_json
{{- end }}
    {{- /* the application starts once the agent is ready (it needs the bootstrap file) */}}
    lifecycle:
      postStart:
        exec:
          command:
          - pilot-agent
          - wait
          - --url=http://localhost:15020/healthz/ready
    env:
    - {name: ISTIO_META_GENERATOR, value: grpc}
    - {name: OUTPUT_CERTS, value: /var/lib/istio/data}
{{- if eq .InboundTrafficPolicyMode "localhost" }}
    - {name: REWRITE_PROBE_LEGACY_LOCALHOST_DESTINATION, value: "true"}
{{- end }}
    - {name: PILOT_CERT_PROVIDER, value: {{ $v.pilotCertProvider | quote }}}
    - name: CA_ADDR
      value: {{ $v.caAddress | default (printf "istiod%s.%s.svc:15012" (ternary "" (printf "-%s" .Values.revision) (eq (.Values.revision | default "") "")) $v.istioNamespace) | quote }}
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: POD_NAMESPACE
      valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
    - name: INSTANCE_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: SERVICE_ACCOUNT
      valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}
    - name: HOST_IP
      valueFrom: {fieldRef: {fieldPath: status.hostIP}}
    - name: PROXY_CONFIG
      value: |
        {{ protoToJSON .ProxyConfig }}
    - name: ISTIO_META_POD_PORTS
      value: |-
        [
{{- range $i, $port := $ports }}
            {{ if $i }},{{ end }}{{ $port }}
{{- end }}
        ]
    - name: ISTIO_META_APP_CONTAINERS
      value: {{ join "," $apps | quote }}
    - name: ISTIO_META_CLUSTER_ID
      value: {{ valueOrDefault $v.multiCluster.clusterName `Kubernetes` | quote }}
    - name: ISTIO_META_NODE_NAME
      valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
{{- with $v.network }}
    - {name: ISTIO_META_NETWORK, value: {{ . | quote }}}
{{- end }}
{{- with .DeploymentMeta.Name }}
    - {name: ISTIO_META_WORKLOAD_NAME, value: {{ . | quote }}}
{{- end }}
{{- if and .TypeMeta.APIVersion .DeploymentMeta.Name }}
    - name: ISTIO_META_OWNER
      value: {{ printf "kubernetes://apis/%s/namespaces/%s/%ss/%s" .TypeMeta.APIVersion (valueOrDefault .DeploymentMeta.Namespace `default`) (toLower .TypeMeta.Kind) .DeploymentMeta.Name | quote }}
{{- end }}
{{- with $v.meshID | default $trust }}
    - {name: ISTIO_META_MESH_ID, value: {{ . | quote }}}
{{- end }}
{{- with $trust }}
    - {name: TRUST_DOMAIN, value: {{ . | quote }}}
{{- end }}
{{- range $key, $value := .ProxyConfig.ProxyMetadata }}
    - {name: {{ $key }}, value: {{ $value | quote }}}
{{- end }}
    {{- /* gRPC resolves xds:/// names itself: no DNS capture, and no Envoy to start */}}
    - {name: ISTIO_META_DNS_CAPTURE, value: "false"}
    - {name: DISABLE_ENVOY, value: "true"}
{{- with $v.imagePullPolicy }}
    imagePullPolicy: {{ . | quote }}
{{- end }}
{{- if $statusOn }}
    readinessProbe:
      httpGet: {path: /healthz/ready, port: 15020}
      initialDelaySeconds: {{ annotation .ObjectMeta `readiness.status.sidecar.istio.io/initialDelaySeconds` $p.readinessInitialDelaySeconds }}
      periodSeconds: {{ annotation .ObjectMeta `readiness.status.sidecar.istio.io/periodSeconds` $p.readinessPeriodSeconds }}
      timeoutSeconds: 3
      failureThreshold: {{ annotation .ObjectMeta `readiness.status.sidecar.istio.io/failureThreshold` $p.readinessFailureThreshold }}
    resources:
{{- template "meshctl.resources" . }}
    volumeMounts:
    - {name: workload-socket, mountPath: /var/run/secrets/workload-spiffe-uds}
{{- if $gke }}
    - {name: gke-workload-certificate, mountPath: /var/run/secrets/workload-spiffe-credentials, readOnly: true}
{{- else }}
    - {name: workload-certs, mountPath: /var/run/secrets/workload-spiffe-credentials}
{{- end }}
{{- if $istiodCA }}
    - {name: istiod-ca-cert, mountPath: /var/run/secrets/istio}
{{- end }}
    - {name: istio-data, mountPath: /var/lib/istio/data}
    {{- /* the UDS channel between the agent and the gRPC library (xDS and SDS) */}}
    - {name: istio-xds, mountPath: /etc/istio/proxy}
    - {name: istio-token, mountPath: /var/run/secrets/tokens}
{{- if $v.mountMtlsCerts }}
    - {name: istio-certs, mountPath: /etc/certs/, readOnly: true}
{{- end }}
    - {name: istio-podinfo, mountPath: /etc/istio/pod}
{{- if isset $a `sidecar.istio.io/userVolumeMount` }}
{{- range $name, $mount := fromJSON (index $a `sidecar.istio.io/userVolumeMount`) }}
    - name: {{ $name | quote }}
      {{ toYaml $mount | indent 6 }}
{{- end }}
{{- end }}
{{- end }}
{{- /* every application container reads the agent's bootstrap and certificates */}}
{{- range $apps }}
  - name: {{ . | quote }}
    env:
    - {name: GRPC_XDS_EXPERIMENTAL_SECURITY_SUPPORT, value: "true"}
    - {name: GRPC_XDS_BOOTSTRAP, value: /etc/istio/proxy/grpc-bootstrap.json}
    volumeMounts:
    - {name: istio-data, mountPath: /var/lib/istio/data}
    - {name: istio-xds, mountPath: /etc/istio/proxy}
{{- if $gke }}
    - {name: gke-workload-certificate, mountPath: /var/run/secrets/workload-spiffe-credentials, readOnly: true}
{{- else }}
    - {name: workload-certs, mountPath: /var/run/secrets/workload-spiffe-credentials}
{{- end }}
{{- end }}
  volumes:
  {{- /* Istio's template gives these two volumes an empty `emptyDir:` (null: no source at all),
         which the API server turns into `emptyDir: {}`; written here as the pod will hold them,
         as sidecar.tpl does */}}
  - {name: workload-socket, emptyDir: {}}
{{- if $gke }}
  - name: gke-workload-certificate
    csi: {driver: workloadcertificates.security.cloud.google.com}
{{- else }}
  - {name: workload-certs, emptyDir: {}}
{{- end }}
{{- if isset $a `sidecar.istio.io/bootstrapOverride` }}
  - name: custom-bootstrap-volume
    configMap: {name: {{ annotation .ObjectMeta `sidecar.istio.io/bootstrapOverride` "" | quote }}}
{{- end }}
  - {name: istio-xds, emptyDir: {medium: Memory}}
  - {name: istio-data, emptyDir: {}}
  - name: istio-podinfo
    downwardAPI:
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: annotations, fieldRef: {fieldPath: metadata.annotations}}
  - name: istio-token
    projected:
      sources:
      - serviceAccountToken: {path: istio-token, expirationSeconds: 43200, audience: {{ $v.sds.token.aud | quote }}}
{{- if $istiodCA }}
  - name: istiod-ca-cert
{{- if eq (.Values.pilot.env).ENABLE_CLUSTER_TRUST_BUNDLE_API true }}
    projected:
      sources:
      - clusterTrustBundle:
          name: {{ printf "istio.io:istiod-ca:%s" ($v.trustBundleName | default "root-cert") | quote }}
          path: root-cert.pem
{{- else }}
    configMap: {name: {{ $v.trustBundleName | default "istio-ca-root-cert" | quote }}}
{{- end }}
{{- end }}
{{- if $v.mountMtlsCerts }}
  - name: istio-certs
    secret: {optional: true, secretName: {{ printf "istio.%s" (.Spec.ServiceAccountName | default "default") | quote }}}
{{- end }}
{{- if isset $a `sidecar.istio.io/userVolume` }}
{{- range $name, $vol := fromJSON (index $a `sidecar.istio.io/userVolume`) }}
  - name: {{ $name | quote }}
    {{ toYaml $vol | indent 4 }}
{{- end }}
{{- end }}
{{- with $v.imagePullSecrets }}
  imagePullSecrets:
{{- range . }}
  - name: {{ . | quote }}
{{- end }}
{{- end }}
