{{- /*
  meshctl's built-in sidecar: Go text/template, rendered by the same engine as a user's Istio
  templates. It produces the pod that Istio's default "sidecar" template produces with Istio's
  default values (see docs/builtin-profile.md), honouring the same pod annotations.

  Written for meshctl: every derived value is computed once at the top, then the pod is laid
  out in one pass. Note: Istio's `indent` leaves the first line alone (unlike Sprig's), so the
  first line's indentation is written literally before it.
*/ -}}
{{- $a := .ObjectMeta.Annotations -}}
{{- $l := .ObjectMeta.Labels -}}
{{- $v := .Values.global -}}
{{- $p := .Values.global.proxy -}}
{{- $cni := .Values.pilot.cni.enabled -}}
{{- $mode := annotation .ObjectMeta `sidecar.istio.io/interceptionMode` .ProxyConfig.InterceptionMode -}}
{{- $tproxy := eq $mode `TPROXY` -}}
{{- $bindSvc := eq (annotation .ObjectMeta `sidecar.istio.io/capNetBindService` $p.capNetBindService) `true` -}}
{{- $native := ne (index $a `sidecar.istio.io/nativeSidecar` | default (printf "%t" .NativeSidecars)) `false` -}}
{{- $hold := and (or .ProxyConfig.HoldApplicationUntilProxyStarts.GetValue $p.holdApplicationUntilProxyStarts) (not $native) -}}
{{- $statusPort := annotation .ObjectMeta `status.sidecar.istio.io/port` $p.statusPort -}}
{{- $inclOut := annotation .ObjectMeta `traffic.sidecar.istio.io/includeOutboundIPRanges` $p.includeIPRanges -}}
{{- $exclOut := annotation .ObjectMeta `traffic.sidecar.istio.io/excludeOutboundIPRanges` $p.excludeIPRanges -}}
{{- $inclIn := annotation .ObjectMeta `traffic.sidecar.istio.io/includeInboundPorts` $p.includeInboundPorts -}}
{{- $exclIn := excludeInboundPort $statusPort (annotation .ObjectMeta `traffic.sidecar.istio.io/excludeInboundPorts` $p.excludeInboundPorts) -}}
{{- $hasInclOutPorts := or (isset $a `traffic.sidecar.istio.io/includeOutboundPorts`) (ne (valueOrDefault $p.includeOutboundPorts "") "") -}}
{{- $inclOutPorts := annotation .ObjectMeta `traffic.sidecar.istio.io/includeOutboundPorts` $p.includeOutboundPorts -}}
{{- $hasExclOutPorts := or (isset $a `traffic.sidecar.istio.io/excludeOutboundPorts`) (ne (valueOrDefault $p.excludeOutboundPorts "") "") -}}
{{- $exclOutPorts := annotation .ObjectMeta `traffic.sidecar.istio.io/excludeOutboundPorts` $p.excludeOutboundPorts -}}
{{- $agentLog := printf "--log_output_level=%s" (annotation .ObjectMeta `sidecar.istio.io/agentLogLevel` $v.logging.level) -}}
{{- $uid := .ProxyUID | default "1337" -}}
{{- $gid := .ProxyGID | default "1337" -}}
{{- $trust := valueOrDefault .MeshConfig.TrustDomain $v.trustDomain -}}
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
    security.istio.io/tlsMode: {{ index $l `security.istio.io/tlsMode` | default "istio" | quote }}
{{- if eq (index .ProxyConfig.ProxyMetadata "ISTIO_META_ENABLE_HBONE") "true" }}
    networking.istio.io/tunnel: {{ index $l `networking.istio.io/tunnel` | default "http" | quote }}
{{- end }}
    service.istio.io/canonical-name: {{ index $l `service.istio.io/canonical-name` | default (index $l `app.kubernetes.io/name`) | default (index $l `app`) | default .DeploymentMeta.Name | trunc 63 | trimAll "-_." | quote }}
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
{{- if $cni }}
{{- if eq .Values.pilot.cni.provider "multus" }}
    k8s.v1.cni.cncf.io/networks: {{ appendMultusNetwork (index $a `k8s.v1.cni.cncf.io/networks`) `default/istio-cni` | quote }}
{{- end }}
    sidecar.istio.io/interceptionMode: {{ $mode | quote }}
{{- with $inclOut }}
    traffic.sidecar.istio.io/includeOutboundIPRanges: {{ . | quote }}
{{- end }}
{{- with $exclOut }}
    traffic.sidecar.istio.io/excludeOutboundIPRanges: {{ . | quote }}
{{- end }}
    traffic.sidecar.istio.io/includeInboundPorts: {{ $inclIn | quote }}
    traffic.sidecar.istio.io/excludeInboundPorts: {{ $exclIn | quote }}
{{- if $hasInclOutPorts }}
    traffic.sidecar.istio.io/includeOutboundPorts: {{ $inclOutPorts | quote }}
{{- end }}
{{- if $hasExclOutPorts }}
    traffic.sidecar.istio.io/excludeOutboundPorts: {{ $exclOutPorts | quote }}
{{- end }}
{{- range $key := list `traffic.sidecar.istio.io/kubevirtInterfaces` `istio.io/reroute-virtual-interfaces` `traffic.sidecar.istio.io/excludeInterfaces` }}
{{- with index $a $key }}
    {{ $key }}: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}
spec:
{{- if and (eq $mode `NONE`) (not $native) }}
  initContainers: []
{{- else }}
  initContainers:
{{- if ne $mode `NONE` }}
  - name: {{ if $cni }}istio-validation{{ else }}istio-init{{ end }}
{{- $initImage := annotation .ObjectMeta `sidecar.istio.io/proxyImage` .Values.global.proxy_init.image }}
    image: {{ if contains "/" $initImage }}{{ $initImage | quote }}{{ else }}{{ .ProxyInitImage | quote }}{{ end }}
    args:
    - istio-iptables
    - "-p"
    - {{ .MeshConfig.ProxyListenPort | default "15001" | quote }}
    - "-z"
    - {{ .MeshConfig.ProxyInboundListenPort | default "15006" | quote }}
    - "-u"
    - {{ if $tproxy }}"1337"{{ else }}{{ $uid | quote }}{{ end }}
    - "-m"
    - {{ $mode | quote }}
    - "-i"
    - {{ $inclOut | quote }}
    - "-x"
    - {{ $exclOut | quote }}
    - "-b"
    - {{ $inclIn | quote }}
    - "-d"
    - {{ if $exclIn }}{{ printf "15090,15021,%s" $exclIn | quote }}{{ else }}"15090,15021"{{ end }}
{{- if $hasInclOutPorts }}
    - "-q"
    - {{ $inclOutPorts | quote }}
{{- end }}
{{- if $hasExclOutPorts }}
    - "-o"
    - {{ $exclOutPorts | quote }}
{{- end }}
{{- with index $a `istio.io/reroute-virtual-interfaces` | default (index $a `traffic.sidecar.istio.io/kubevirtInterfaces`) }}
    - "-k"
    - {{ . | quote }}
{{- end }}
{{- with index $a `traffic.sidecar.istio.io/excludeInterfaces` }}
    - "-c"
    - {{ . | quote }}
{{- end }}
    - {{ $agentLog | quote }}
{{- if $v.logAsJson }}
    - "--log_as_json"
{{- end }}
{{- if $cni }}
    - "--run-validation"
    - "--skip-rule-apply"
{{- else if .Values.global.proxy_init.forceApplyIptables }}
    - "--force-apply"
{{- end }}
{{- if $v.nativeNftables }}
    - "--native-nftables"
{{- end }}
{{- with $v.imagePullPolicy }}
    imagePullPolicy: {{ . | quote }}
{{- end }}
{{- with .ProxyConfig.ProxyMetadata }}
    env:
{{- range $key, $value := . }}
    - name: {{ $key }}
      value: {{ $value | quote }}
{{- end }}
{{- end }}
    resources:
{{- template "meshctl.resources" . }}
    securityContext:
      allowPrivilegeEscalation: {{ $p.privileged }}
      privileged: {{ $p.privileged }}
      capabilities:
{{- if not $cni }}
        add: [NET_ADMIN, NET_RAW]
{{- end }}
        drop: [ALL]
{{- if $cni }}
      readOnlyRootFilesystem: true
      runAsGroup: {{ if $tproxy }}1337{{ else }}{{ $gid }}{{ end }}
      runAsUser: {{ if $tproxy }}1337{{ else }}{{ $uid }}{{ end }}
      runAsNonRoot: true
{{- else }}
      readOnlyRootFilesystem: false
      runAsGroup: 0
      runAsNonRoot: false
      runAsUser: 0
{{- end }}
{{- with $p.seccompProfile }}
      seccompProfile:
{{- toYaml . | nindent 8 }}
{{- end }}
{{- end }}
{{- end }}
{{- if not $native }}
  containers:
{{- end }}
  - name: istio-proxy
{{- $proxyImage := annotation .ObjectMeta `sidecar.istio.io/proxyImage` $p.image }}
    image: {{ if contains "/" $proxyImage }}{{ $proxyImage | quote }}{{ else }}{{ .ProxyImage | quote }}{{ end }}
{{- if $native }}
    restartPolicy: Always
{{- end }}
    ports:
    - {name: http-envoy-prom, containerPort: 15090, protocol: TCP}
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
{{- with $p.outlierLogPath }}
    - --outlierLogPath={{ . }}
{{- end }}
{{- if $p.lifecycle }}
    lifecycle:
      {{ toYaml $p.lifecycle | indent 6 }}
{{- else if $hold }}
    lifecycle:
      postStart:
        exec:
          command: [pilot-agent, wait]
{{- else if $native }}
    lifecycle:
      preStop:
        exec:
          command: [pilot-agent, request, {{ printf "--debug-port=%v" $statusPort | quote }}, POST, drain]
{{- end }}
    env:
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
    - name: ISTIO_CPU_LIMIT
      valueFrom: {resourceFieldRef: {resource: limits.cpu, divisor: "1"}}
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
    - name: GOMEMLIMIT
      valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: "1"}}
{{- with .CompliancePolicy }}
    - {name: COMPLIANCE_POLICY, value: {{ . | quote }}}
{{- if eq . "fips-140-3" }}
    - {name: GODEBUG, value: "fips140=only"}
{{- end }}
{{- end }}
    - name: ISTIO_META_CLUSTER_ID
      value: {{ valueOrDefault $v.multiCluster.clusterName `Kubernetes` | quote }}
    - name: ISTIO_META_NODE_NAME
      valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
    - name: ISTIO_META_INTERCEPTION_MODE
      value: {{ or (index $a `sidecar.istio.io/interceptionMode`) .ProxyConfig.InterceptionMode.String | quote }}
{{- with $v.network }}
    - {name: ISTIO_META_NETWORK, value: {{ . | quote }}}
{{- end }}
{{- with index $l `service.istio.io/workload-name` | default .DeploymentMeta.Name }}
    - name: ISTIO_META_WORKLOAD_NAME
      value: {{ . | quote }}
{{- end }}
{{- if and .TypeMeta.APIVersion .DeploymentMeta.Name }}
    - name: ISTIO_META_OWNER
      value: {{ printf "kubernetes://apis/%s/namespaces/%s/%ss/%s" .TypeMeta.APIVersion (valueOrDefault .DeploymentMeta.Namespace `default`) (toLower .TypeMeta.Kind) .DeploymentMeta.Name | quote }}
{{- end }}
{{- if isset $a `sidecar.istio.io/bootstrapOverride` }}
    - {name: ISTIO_BOOTSTRAP_OVERRIDE, value: /etc/istio/custom-bootstrap/custom_bootstrap.json}
{{- end }}
{{- with $v.meshID | default $trust }}
    - {name: ISTIO_META_MESH_ID, value: {{ . | quote }}}
{{- end }}
{{- with $trust }}
    - {name: TRUST_DOMAIN, value: {{ . | quote }}}
{{- end }}
{{- if and (eq $p.tracer "datadog") (isset $a `apm.datadoghq.com/env`) }}
{{- range $key, $value := fromJSON (index $a `apm.datadoghq.com/env`) }}
    - {name: {{ $key }}, value: {{ $value | quote }}}
{{- end }}
{{- end }}
{{- with otelResourceAttributes .MeshConfig $a $l .DeploymentMeta.Namespace .Spec.Containers }}
    - {name: OTEL_RESOURCE_ATTRIBUTES, value: {{ . | quote }}}
{{- end }}
{{- range $key, $value := .ProxyConfig.ProxyMetadata }}
    - {name: {{ $key }}, value: {{ $value | quote }}}
{{- end }}
{{- with $v.imagePullPolicy }}
    imagePullPolicy: {{ . | quote }}
{{- end }}
{{- if ne $statusPort `0` }}
{{- if $p.startupProbe.enabled }}
    startupProbe:
      httpGet: {path: /healthz/ready, port: 15021}
      initialDelaySeconds: 0
      periodSeconds: 1
      timeoutSeconds: 3
      failureThreshold: {{ $p.startupProbe.failureThreshold }}
{{- end }}
    readinessProbe:
      httpGet: {path: /healthz/ready, port: 15021}
      initialDelaySeconds: {{ annotation .ObjectMeta `readiness.status.sidecar.istio.io/initialDelaySeconds` $p.readinessInitialDelaySeconds }}
      periodSeconds: {{ annotation .ObjectMeta `readiness.status.sidecar.istio.io/periodSeconds` $p.readinessPeriodSeconds }}
      timeoutSeconds: 3
      failureThreshold: {{ annotation .ObjectMeta `readiness.status.sidecar.istio.io/failureThreshold` $p.readinessFailureThreshold }}
{{- end }}
    securityContext:
{{- if eq (index .ProxyConfig.ProxyMetadata "IPTABLES_TRACE_LOGGING") "true" }}
      allowPrivilegeEscalation: true
      capabilities: {add: [NET_ADMIN], drop: [ALL]}
      privileged: true
      readOnlyRootFilesystem: true
      runAsGroup: {{ $gid }}
      runAsNonRoot: false
      runAsUser: 0
{{- else }}
      allowPrivilegeEscalation: {{ $p.privileged }}
      capabilities:
{{- if or $tproxy $bindSvc }}
        add:
{{- if $tproxy }}
        - NET_ADMIN
{{- end }}
{{- if $bindSvc }}
        - NET_BIND_SERVICE
{{- end }}
{{- end }}
        drop: [ALL]
      privileged: {{ $p.privileged }}
      readOnlyRootFilesystem: true
{{- if or $tproxy $bindSvc }}
      runAsNonRoot: false
      runAsUser: 0
      runAsGroup: 1337
{{- else }}
      runAsNonRoot: true
      runAsUser: {{ $uid }}
      runAsGroup: {{ $gid }}
{{- end }}
{{- end }}
{{- with $p.seccompProfile }}
      seccompProfile:
{{- toYaml . | nindent 8 }}
{{- end }}
    resources:
{{- template "meshctl.resources" . }}
    volumeMounts:
    - {name: workload-socket, mountPath: /var/run/secrets/workload-spiffe-uds}
    - {name: credential-socket, mountPath: /var/run/secrets/credential-uds}
{{- if eq $v.caName "GkeWorkloadCertificate" }}
    - {name: gke-workload-certificate, mountPath: /var/run/secrets/workload-spiffe-credentials, readOnly: true}
{{- else }}
    - {name: workload-certs, mountPath: /var/run/secrets/workload-spiffe-credentials}
{{- end }}
{{- if eq $v.pilotCertProvider "istiod" }}
    - {name: istiod-ca-cert, mountPath: /var/run/secrets/istio}
    - {name: istio-ca-crl, mountPath: /var/run/secrets/istio/crl}
{{- end }}
    - {name: istio-data, mountPath: /var/lib/istio/data}
{{- if isset $a `sidecar.istio.io/bootstrapOverride` }}
    - {name: custom-bootstrap-volume, mountPath: /etc/istio/custom-bootstrap}
{{- end }}
    - {name: istio-envoy, mountPath: /etc/istio/proxy}
    - {name: istio-token, mountPath: /var/run/secrets/tokens}
{{- if $v.mountMtlsCerts }}
    - {name: istio-certs, mountPath: /etc/certs/, readOnly: true}
{{- end }}
    - {name: istio-podinfo, mountPath: /etc/istio/pod}
{{- if and (eq $p.tracer "lightstep") .ProxyConfig.GetTracing.GetTlsSettings }}
    - name: lightstep-certs
      mountPath: {{ directory .ProxyConfig.GetTracing.GetTlsSettings.GetCaCertificates }}
      readOnly: true
{{- end }}
{{- if isset $a `sidecar.istio.io/userVolumeMount` }}
{{- range $name, $mount := fromJSON (index $a `sidecar.istio.io/userVolumeMount`) }}
    - name: {{ $name | quote }}
      {{ toYaml $mount | indent 6 }}
{{- end }}
{{- end }}
  volumes:
  - {name: workload-socket, emptyDir: {}}
  - {name: credential-socket, emptyDir: {}}
{{- if eq $v.caName "GkeWorkloadCertificate" }}
  - name: gke-workload-certificate
    csi: {driver: workloadcertificates.security.cloud.google.com}
{{- else }}
  - {name: workload-certs, emptyDir: {}}
{{- end }}
{{- if isset $a `sidecar.istio.io/bootstrapOverride` }}
  - name: custom-bootstrap-volume
    configMap: {name: {{ annotation .ObjectMeta `sidecar.istio.io/bootstrapOverride` "" | quote }}}
{{- end }}
  - {name: istio-envoy, emptyDir: {medium: Memory}}
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
{{- if eq $v.pilotCertProvider "istiod" }}
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
  - name: istio-ca-crl
    configMap: {name: {{ .Values.pilot.crlConfigMapName | default "istio-ca-crl" | quote }}, optional: true}
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
{{- if and (eq $p.tracer "lightstep") .ProxyConfig.GetTracing.GetTlsSettings }}
  - name: lightstep-certs
    secret: {optional: true, secretName: lightstep.cacert}
{{- end }}
{{- with $v.imagePullSecrets }}
  imagePullSecrets:
{{- range . }}
  - name: {{ . | quote }}
{{- end }}
{{- end }}
