{{/* Chart name, overridable. */}}
{{- define "ece-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name: <release>-<chart> unless the release name already contains the chart name. */}}
{{- define "ece-exporter.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "ece-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ece-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ece-exporter.labels" -}}
{{ include "ece-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "ece-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ece-exporter.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "ece-exporter.secretName" -}}
{{- if .Values.existingSecret -}}{{ .Values.existingSecret }}{{- else -}}{{ include "ece-exporter.fullname" . }}{{- end -}}
{{- end -}}

{{- define "ece-exporter.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* The pod spec, shared by the Deployment and the sharded StatefulSet. */}}
{{- define "ece-exporter.podSpec" -}}
serviceAccountName: {{ include "ece-exporter.serviceAccountName" . }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
securityContext: {{- toYaml .Values.podSecurityContext | nindent 2 }}
containers:
  - name: ece-exporter
    image: {{ include "ece-exporter.image" . | quote }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    args:
      {{- if .Values.demo }}
      - --demo
      {{- else }}
      - --config.file=/etc/ece_exporter/config/config.yml
      {{- end }}
      - --web.listen-address=:9871
      - --log.level={{ .Values.log.level }}
      - --log.format={{ .Values.log.format }}
      {{- if .Values.sharding.enabled }}
      {{- if eq .Values.sharding.ordinalSource "podIndexLabel" }}
      - --shard=$(SHARD)
      {{- else }}
      # The StatefulSet pod name "<name>-N" ends in its ordinal: that is the shard.
      - --shard.from-hostname
      {{- end }}
      - --total-shards={{ .Values.sharding.totalShards }}
      {{- end }}
      {{- range .Values.extraArgs }}
      - {{ . | quote }}
      {{- end }}
    {{- if and .Values.sharding.enabled (eq .Values.sharding.ordinalSource "podIndexLabel") }}
    env:
      - name: SHARD
        valueFrom:
          fieldRef:
            fieldPath: metadata.labels['apps.kubernetes.io/pod-index']
    {{- end }}
    ports:
      - name: http-metrics
        containerPort: 9871
        protocol: TCP
    livenessProbe:
      httpGet: {path: /-/healthy, port: http-metrics}
      initialDelaySeconds: 5
      periodSeconds: 20
      timeoutSeconds: 5
    # /-/ready answers 503 until every collector has polled once.
    readinessProbe:
      httpGet: {path: /-/ready, port: http-metrics}
      periodSeconds: 10
      timeoutSeconds: 5
    startupProbe:
      httpGet: {path: /-/healthy, port: http-metrics}
      periodSeconds: 5
      failureThreshold: 12
    resources: {{- toYaml .Values.resources | nindent 6 }}
    securityContext: {{- toYaml .Values.securityContext | nindent 6 }}
    {{- if not .Values.demo }}
    volumeMounts:
      - name: config
        mountPath: /etc/ece_exporter/config
        readOnly: true
      - name: api-key
        mountPath: /etc/ece_exporter/secrets
        readOnly: true
    {{- end }}
{{- if not .Values.demo }}
volumes:
  - name: config
    configMap:
      name: {{ include "ece-exporter.fullname" . }}
  - name: api-key
    secret:
      secretName: {{ include "ece-exporter.secretName" . }}
      defaultMode: 0440
      items:
        - key: {{ .Values.existingSecretKey }}
          path: api-key
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
