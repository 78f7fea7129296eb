{{- /*
  meshctl's built-in gateway template (`inject.istio.io/templates: gateway`): turns a Deployment
  that declares only an `istio-proxy` container (`image: auto`, as Istio's gateway Helm chart
  writes it) into a standalone Envoy gateway. It produces what Istio's default "gateway" template
  produces with Istio's default values (see docs/builtin-profile.md).

  What makes it a gateway rather than a sidecar:
  - the agent runs `proxy router`, and there is no traffic capture: no istio-init, no iptables
    annotations, no security.istio.io/tlsMode label;
  - the pod may bind ports below 1024 without privileges (the unprivileged-port sysctl), unless
    the values give the gateway pods their own securityContext (`gateways.securityContext`);
  - no resources and no startup probe of its own (the chart sets resources on its container),
    a lifecycle only from the values (global.proxy.lifecycle); the readiness probe follows the
    values only (the readiness.status annotations are not read), and the container runs as the
    proxy user.
  Pod annotations it honours: sidecar.istio.io/proxyImage, logLevel, componentLogLevel,
  agentLogLevel, bootstrapOverride, and the kubectl default-container ones.

  Written for meshctl like sidecar.tpl: derived values first, then the pod in one pass. Values are
  written with `quote` where Istio's template pastes them into "..." (the same strings for every
  ordinary value).
*/ -}}
{{- $a := .ObjectMeta.Annotations -}}
{{- $l := .ObjectMeta.Labels -}}
{{- $v := .Values.global -}}
{{- $p := .Values.global.proxy -}}
{{- $agentLog := printf "--log_output_level=%s" (annotation .ObjectMeta `sidecar.istio.io/agentLogLevel` $v.logging.level) -}}
{{- $trust := valueOrDefault .MeshConfig.TrustDomain $v.trustDomain -}}
{{- $bootstrap := isset $a `sidecar.istio.io/bootstrapOverride` -}}
{{- $gke := eq $v.caName "GkeWorkloadCertificate" -}}
{{- $istiodCA := eq $v.pilotCertProvider "istiod" -}}
{{- $apps := list -}}
{{- range .Spec.Containers }}{{ if ne .Name "istio-proxy" }}{{ $apps = append $apps .Name }}{{ end }}{{ end -}}
{{- /* ISTIO_META_POD_PORTS: one JSON object per declared port */ -}}
{{- $ports := list -}}
{{- range .Spec.Containers }}{{ range .Ports }}{{ with structToJSON . }}{{ $ports = append $ports . }}{{ end }}{{ end }}{{ end -}}
metadata:
  labels:
    {{- /* unlike the sidecar's, the gateway's canonical name is not cut to 63 characters */}}
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
spec:
  securityContext:
{{- with .Values.gateways.securityContext }}
    {{- toYaml . | nindent 4 }}
{{- else }}
    sysctls:
    - {name: net.ipv4.ip_unprivileged_port_start, value: "0"}
{{- end }}
  containers:
  - name: istio-proxy
{{- $proxyImage := annotation .ObjectMeta `sidecar.istio.io/proxyImage` $p.image }}
    image: {{ if contains "/" $proxyImage }}{{ $proxyImage | quote }}{{ else }}{{ .ProxyImage | quote }}{{ end }}
    ports:
    - {name: http-envoy-prom, containerPort: 15090, protocol: TCP}
    args:
    - proxy
    - router
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
{{- if $p.lifecycle }}
    lifecycle:
      {{ toYaml $p.lifecycle | indent 6 }}
{{- end }}
    securityContext:
      runAsUser: {{ .ProxyUID | default "1337" }}
      runAsGroup: {{ .ProxyGID | default "1337" }}
    env:
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
    - name: GOMEMLIMIT
      valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: "1"}}
{{- with .CompliancePolicy }}
    - {name: COMPLIANCE_POLICY, value: {{ . | quote }}}
{{- if eq . "fips-140-3" }}
    - {name: GODEBUG, value: "fips140=only"}
{{- end }}
{{- end }}
    - name: ISTIO_META_APP_CONTAINERS
      value: {{ join "," $apps | quote }}
    - name: ISTIO_META_CLUSTER_ID
      value: {{ valueOrDefault $v.multiCluster.clusterName `Kubernetes` | quote }}
    - name: ISTIO_META_NODE_NAME
      valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
    {{- /* the mesh's interception mode: a gateway captures nothing, the annotation is not read */}}
    - name: ISTIO_META_INTERCEPTION_MODE
      value: {{ .ProxyConfig.InterceptionMode.String | quote }}
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
{{- if $bootstrap }}
    - {name: ISTIO_BOOTSTRAP_OVERRIDE, value: /etc/istio/custom-bootstrap/custom_bootstrap.json}
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
{{- with $v.imagePullPolicy }}
    imagePullPolicy: {{ . | quote }}
{{- end }}
    readinessProbe:
      httpGet: {path: /healthz/ready, port: 15021}
      initialDelaySeconds: {{ $p.readinessInitialDelaySeconds }}
      periodSeconds: {{ $p.readinessPeriodSeconds }}
      timeoutSeconds: 3
      failureThreshold: {{ $p.readinessFailureThreshold }}
    volumeMounts:
    - {name: workload-socket, mountPath: /var/run/secrets/workload-spiffe-uds}
    - {name: credential-socket, mountPath: /var/run/secrets/credential-uds}
{{- if $gke }}
    - {name: gke-workload-certificate, mountPath: /var/run/secrets/workload-spiffe-credentials, readOnly: true}
{{- else }}
    - {name: workload-certs, mountPath: /var/run/secrets/workload-spiffe-credentials}
{{- end }}
{{- if $istiodCA }}
    - {name: istiod-ca-cert, mountPath: /var/run/secrets/istio}
{{- end }}
    - {name: istio-data, mountPath: /var/lib/istio/data}
{{- if $bootstrap }}
    - {name: custom-bootstrap-volume, mountPath: /etc/istio/custom-bootstrap}
{{- end }}
    {{- /* the SDS channel between the agent and Envoy */}}
    - {name: istio-envoy, mountPath: /etc/istio/proxy}
    - {name: istio-token, mountPath: /var/run/secrets/tokens}
{{- if $v.mountMtlsCerts }}
    - {name: istio-certs, mountPath: /etc/certs/, readOnly: true}
{{- end }}
    - {name: istio-podinfo, mountPath: /etc/istio/pod}
  volumes:
  {{- /* Istio's template gives this volume an empty `emptyDir:` (null: no source at all), which
         the API server turns into `emptyDir: {}`; written here as the pod will hold it, as
         sidecar.tpl does */}}
  - {name: workload-socket, emptyDir: {}}
  - {name: credential-socket, emptyDir: {}}
{{- if $gke }}
  - name: gke-workload-certificate
    csi: {driver: workloadcertificates.security.cloud.google.com}
{{- else }}
  - {name: workload-certs, emptyDir: {}}
{{- end }}
{{- if $bootstrap }}
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
{{- with $v.imagePullSecrets }}
  imagePullSecrets:
{{- range . }}
  - name: {{ . | quote }}
{{- end }}
{{- end }}
