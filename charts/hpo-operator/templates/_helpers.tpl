{{/* The chart's name. */}}
{{- define "hpo-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name, the prefix of every object. */}}
{{- define "hpo-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "hpo-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hpo-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "hpo-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "hpo-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "hpo-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "hpo-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* An image reference from {repository, tag, digest}; the tag defaults to v<appVersion>. */}}
{{- define "hpo-operator.imageRef" -}}
{{- $image := index . 0 }}{{- $root := index . 1 }}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (default (printf "v%s" $root.Chart.AppVersion) $image.tag) }}
{{- end }}
{{- end }}

{{- define "hpo-operator.image" -}}
{{- include "hpo-operator.imageRef" (list .Values.image .) }}
{{- end }}

{{/* The stage-in/stage-out image of generator Jobs: the operator's own unless set. */}}
{{- define "hpo-operator.stageImage" -}}
{{- if .Values.stageImage.repository }}
{{- include "hpo-operator.imageRef" (list .Values.stageImage .) }}
{{- else }}
{{- include "hpo-operator.image" . }}
{{- end }}
{{- end }}

{{- define "hpo-operator.leaseName" -}}
{{- default (include "hpo-operator.fullname" .) .Values.leaderElection.id }}
{{- end }}

{{/* Leader election is forced on with more than one replica. */}}
{{- define "hpo-operator.leaderElect" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail "leaderElection.enabled=false needs replicaCount=1: two operators without a leader would both reconcile" }}
{{- end }}
{{- .Values.leaderElection.enabled }}
{{- end }}

{{/* The operator's rules (config/rbac/role.yaml, copied into files/rbac by npm run generate). */}}
{{- define "hpo-operator.managerRules" -}}
{{- (.Files.Get "files/rbac/role.yaml" | fromYaml).rules | toYaml }}
{{- end }}

{{- define "hpo-operator.leaderElectionRules" -}}
{{- (.Files.Get "files/rbac/leader_election_role.yaml" | fromYaml).rules | toYaml }}
{{- end }}

{{/* The iDDS API server's name, labels and selector: another app name, so that the operator's
selector never matches its pods. */}}
{{- define "hpo-operator.apiName" -}}
{{- printf "%s-api" (include "hpo-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "hpo-operator.apiSelectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-api" (include "hpo-operator.name" .) | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: api
{{- end }}

{{- define "hpo-operator.apiLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "hpo-operator.apiSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "hpo-operator.apiServiceAccountName" -}}
{{- default (include "hpo-operator.apiName" .) .Values.api.serviceAccount.name }}
{{- end }}

{{- define "hpo-operator.apiTlsSecret" -}}
{{- default (printf "%s-tls" (include "hpo-operator.apiName" .)) .Values.api.tls.existingSecret }}
{{- end }}

{{/* The API server's rules (config/rbac/api_role.yaml): those of one group kind, "hpo" or "reviews". */}}
{{- define "hpo-operator.apiRules" -}}
{{- $want := index . 1 }}
{{- $rules := list }}
{{- range ((index . 0).Files.Get "files/rbac/api_role.yaml" | fromYaml).rules }}
{{- /* "reviews": the cluster-scoped TokenReview and SubjectAccessReview rules; "hpo": the rest
(hpo.dev, and the dashboard's events, pods and jobs), cluster-wide or a Role per served namespace. */}}
{{- $review := or (has "authentication.k8s.io" .apiGroups) (has "authorization.k8s.io" .apiGroups) }}
{{- if eq $review (eq $want "reviews") }}
{{- $rules = append $rules . }}
{{- end }}
{{- end }}
{{- $rules | toYaml }}
{{- end }}

{{/* A resource list {cpu: 100m, memory: 1Gi} as the operator's flags take it: "cpu=100m,memory=1Gi". */}}
{{- define "hpo-operator.resourceList" -}}
{{- $parts := list }}
{{- range $name, $value := . }}
{{- $parts = append $parts (printf "%s=%v" $name $value) }}
{{- end }}
{{- join "," $parts }}
{{- end }}
