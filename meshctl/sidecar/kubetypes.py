"""Kubernetes' Go types, the part Istio's injection templates read.

The templates see the pod as Go structs (``.ObjectMeta.Annotations``, ``.Spec.Containers``);
these tables give each struct's fields, their Go names, JSON keys, kinds and ``omitempty``, for
the views of :mod:`meshctl.gotemplate.types`. Fields not listed are resolved by name.
"""

from __future__ import annotations

from meshctl.gotemplate.types import BOOL, INT, LIST, PTR, PTRSTRUCT, STR, STRMAP, STRUCT, struct

TYPE_META = struct("TypeMeta", ("Kind", STR), ("APIVersion", STR))
NAMESPACED_NAME = struct(
    "NamespacedName", ("Namespace", STR, {"json": "Namespace"}), ("Name", STR, {"json": "Name"})
)
OBJECT_META = struct(
    "ObjectMeta",
    ("Name", STR), ("GenerateName", STR), ("Namespace", STR), ("SelfLink", STR), ("UID", STR),
    ("ResourceVersion", STR), ("Generation", INT), ("CreationTimestamp", PTR),
    ("DeletionTimestamp", PTR), ("DeletionGracePeriodSeconds", PTR), ("Labels", STRMAP),
    ("Annotations", STRMAP), ("OwnerReferences", LIST), ("Finalizers", LIST),
    ("ManagedFields", LIST),
)
CONTAINER_PORT = struct(
    "ContainerPort",
    ("Name", STR), ("HostPort", INT), ("ContainerPort", INT, {"omitempty": False}),
    ("Protocol", STR), ("HostIP", STR, {"json": "hostIP"}),
)
ENV_VAR = struct("EnvVar", ("Name", STR, {"omitempty": False}), ("Value", STR), ("ValueFrom", PTR))
VOLUME_MOUNT = struct(
    "VolumeMount",
    ("Name", STR, {"omitempty": False}), ("ReadOnly", BOOL), ("RecursiveReadOnly", PTR),
    ("MountPath", STR, {"omitempty": False}), ("SubPath", STR), ("MountPropagation", PTR),
    ("SubPathExpr", STR),
)
HTTP_GET = struct(
    "HTTPGetAction", ("Path", STR), ("Port", PTR, {"omitempty": False}), ("Host", STR),
    ("Scheme", STR), ("HTTPHeaders", LIST),
)
TCP_SOCKET = struct("TCPSocketAction", ("Port", PTR, {"omitempty": False}), ("Host", STR))
GRPC_ACTION = struct(
    "GRPCAction", ("Port", INT, {"omitempty": False}), ("Service", PTR, {"omitempty": False})
)
EXEC_ACTION = struct("ExecAction", ("Command", LIST))
PROBE = struct(
    "Probe",
    ("Exec", PTRSTRUCT, EXEC_ACTION), ("HTTPGet", PTRSTRUCT, HTTP_GET),
    ("TCPSocket", PTRSTRUCT, TCP_SOCKET), ("GRPC", PTRSTRUCT, GRPC_ACTION),
    ("InitialDelaySeconds", INT), ("TimeoutSeconds", INT), ("PeriodSeconds", INT),
    ("SuccessThreshold", INT), ("FailureThreshold", INT), ("TerminationGracePeriodSeconds", PTR),
)
LIFECYCLE_HANDLER = struct(
    "LifecycleHandler",
    ("Exec", PTRSTRUCT, EXEC_ACTION), ("HTTPGet", PTRSTRUCT, HTTP_GET),
    ("TCPSocket", PTRSTRUCT, TCP_SOCKET), ("Sleep", PTR),
)
LIFECYCLE = struct(
    "Lifecycle", ("PostStart", PTRSTRUCT, LIFECYCLE_HANDLER),
    ("PreStop", PTRSTRUCT, LIFECYCLE_HANDLER), ("StopSignal", PTR),
)
SECURITY_CONTEXT = struct(
    "SecurityContext",
    ("Capabilities", PTR), ("Privileged", PTR), ("SELinuxOptions", PTR),
    ("WindowsOptions", PTR), ("RunAsUser", PTR), ("RunAsGroup", PTR), ("RunAsNonRoot", PTR),
    ("ReadOnlyRootFilesystem", PTR), ("AllowPrivilegeEscalation", PTR), ("ProcMount", PTR),
    ("SeccompProfile", PTR), ("AppArmorProfile", PTR),
)
RESOURCES = struct(
    "ResourceRequirements", ("Limits", STRMAP), ("Requests", STRMAP), ("Claims", LIST)
)
CONTAINER = struct(
    "Container",
    ("Name", STR, {"omitempty": False}), ("Image", STR), ("Command", LIST), ("Args", LIST),
    ("WorkingDir", STR), ("Ports", LIST, CONTAINER_PORT), ("EnvFrom", LIST), ("Env", LIST, ENV_VAR),
    ("Resources", STRUCT, RESOURCES), ("ResizePolicy", LIST), ("RestartPolicy", PTR),
    ("RestartPolicyRules", LIST), ("VolumeMounts", LIST, VOLUME_MOUNT), ("VolumeDevices", LIST),
    ("LivenessProbe", PTRSTRUCT, PROBE), ("ReadinessProbe", PTRSTRUCT, PROBE),
    ("StartupProbe", PTRSTRUCT, PROBE), ("Lifecycle", PTRSTRUCT, LIFECYCLE),
    ("TerminationMessagePath", STR), ("TerminationMessagePolicy", STR), ("ImagePullPolicy", STR),
    ("SecurityContext", PTRSTRUCT, SECURITY_CONTEXT), ("Stdin", BOOL), ("StdinOnce", BOOL),
    ("TTY", BOOL),
)
POD_SPEC = struct(
    "PodSpec",
    ("Volumes", LIST), ("InitContainers", LIST, CONTAINER), ("Containers", LIST, CONTAINER),
    ("EphemeralContainers", LIST), ("RestartPolicy", STR), ("TerminationGracePeriodSeconds", PTR),
    ("ActiveDeadlineSeconds", PTR), ("DNSPolicy", STR), ("NodeSelector", STRMAP),
    ("ServiceAccountName", STR), ("DeprecatedServiceAccount", STR, {"json": "serviceAccount"}),
    ("AutomountServiceAccountToken", PTR), ("NodeName", STR), ("HostNetwork", BOOL),
    ("HostPID", BOOL, {"json": "hostPID"}), ("HostIPC", BOOL, {"json": "hostIPC"}),
    ("ShareProcessNamespace", PTR), ("SecurityContext", PTR), ("ImagePullSecrets", LIST),
    ("Hostname", STR), ("Subdomain", STR), ("Affinity", PTR), ("SchedulerName", STR),
    ("Tolerations", LIST), ("HostAliases", LIST), ("PriorityClassName", STR), ("Priority", PTR),
    ("DNSConfig", PTR), ("ReadinessGates", LIST), ("RuntimeClassName", PTR),
    ("EnableServiceLinks", PTR), ("PreemptionPolicy", PTR), ("Overhead", STRMAP),
    ("TopologySpreadConstraints", LIST), ("SetHostnameAsFQDN", PTR, {"json": "setHostnameAsFQDN"}),
    ("OS", PTR, {"json": "os"}), ("HostUsers", PTR), ("SchedulingGates", LIST),
    ("ResourceClaims", LIST), ("Resources", PTR),
)
