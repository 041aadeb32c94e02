{{- define "ece-exporter.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "ece-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ece-exporter.labels" -}}
{{ include "ece-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "ece-exporter.secretName" -}}
{{- if .Values.existingSecret -}}{{ .Values.existingSecret }}{{- else -}}{{ include "ece-exporter.fullname" . }}{{- end -}}
{{- end -}}

{{- define "ece-exporter.podSpec" -}}
serviceAccountName: {{ include "ece-exporter.fullname" . }}
automountServiceAccountToken: false
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  seccompProfile:
    type: RuntimeDefault
containers:
  - name: ece-exporter
    image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    args:
      - --config.file=/etc/ece_exporter/config.yml
      {{- if .Values.sharding.enabled }}
      # The StatefulSet pod name ends in its ordinal: that is the shard.
      - --shard.from-hostname
      - --total-shards={{ .Values.sharding.totalShards }}
      {{- end }}
      {{- range .Values.extraArgs }}
      - {{ . | quote }}
      {{- end }}
    ports:
      - name: http-metrics
        containerPort: 9871
        protocol: TCP
    livenessProbe:
      httpGet: {path: /-/healthy, port: http-metrics}
      initialDelaySeconds: 5
      periodSeconds: 20
    readinessProbe:
      httpGet: {path: /-/ready, port: http-metrics}
      periodSeconds: 10
      failureThreshold: 30
    resources:
      {{- toYaml .Values.resources | nindent 6 }}
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities:
        drop: ["ALL"]
    volumeMounts:
      - name: config
        mountPath: /etc/ece_exporter/config.yml
        subPath: config.yml
        readOnly: true
      - name: api-key
        mountPath: /etc/ece_exporter/secrets
        readOnly: true
volumes:
  - name: config
    configMap:
      name: {{ include "ece-exporter.fullname" . }}
  - name: api-key
    secret:
      secretName: {{ include "ece-exporter.secretName" . }}
      defaultMode: 0400
      items:
        - key: {{ .Values.existingSecretKey }}
          path: api-key
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
