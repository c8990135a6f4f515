{{/* Names and labels. */}}
{{- define "channelpulse.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "channelpulse.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: include "channelpulse.selector" (list . "worker") */}}
{{- define "channelpulse.selector" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ $root.Chart.Name }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "channelpulse.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "channelpulse.tritonImage" -}}
{{- printf "%s:%s" .Values.triton.image.repository (default .Chart.AppVersion .Values.triton.image.tag) -}}
{{- end -}}

{{- define "channelpulse.retrainerImage" -}}
{{- if .Values.retrainer.image.repository -}}
{{- printf "%s:%s" .Values.retrainer.image.repository (default .Chart.AppVersion .Values.retrainer.image.tag) -}}
{{- else -}}
{{- include "channelpulse.tritonImage" . -}}
{{- end -}}
{{- end -}}

{{- define "channelpulse.tritonService" -}}
{{- printf "%s-triton" (include "channelpulse.fullname" .) -}}
{{- end -}}

{{/* Paths inside the ChannelPulse containers (CHANNELPULSE_STATE_DIR and what lives under it). */}}
{{- define "channelpulse.stateDir" -}}/var/lib/channelpulse{{- end -}}
{{- define "channelpulse.kafkaTlsDir" -}}/etc/channelpulse/kafka{{- end -}}

{{- define "channelpulse.saslEnabled" -}}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol -}}true{{- end -}}
{{- end -}}
{{- define "channelpulse.tlsEnabled" -}}
{{- if has .Values.kafka.securityProtocol (list "SSL" "SASL_SSL") -}}true{{- end -}}
{{- end -}}

{{/* Checks of the values, run by every template that uses the settings. */}}
{{- define "channelpulse.validate" -}}
{{- $protocols := list "PLAINTEXT" "SSL" "SASL_PLAINTEXT" "SASL_SSL" -}}
{{- if not (has .Values.kafka.securityProtocol $protocols) -}}
{{- fail (printf "kafka.securityProtocol must be one of %s, not %q" (join ", " $protocols) .Values.kafka.securityProtocol) -}}
{{- end -}}
{{- if include "channelpulse.saslEnabled" . -}}
{{- $mechanisms := list "PLAIN" "SCRAM-SHA-256" "SCRAM-SHA-512" -}}
{{- if not (has .Values.kafka.sasl.mechanism $mechanisms) -}}
{{- fail (printf "kafka.sasl.mechanism must be one of %s, not %q" (join ", " $mechanisms) .Values.kafka.sasl.mechanism) -}}
{{- end -}}
{{- if not .Values.kafka.sasl.secret -}}
{{- fail (printf "kafka.securityProtocol %s needs kafka.sasl.secret: a Secret with keys %s and %s" .Values.kafka.securityProtocol .Values.kafka.sasl.usernameKey .Values.kafka.sasl.passwordKey) -}}
{{- end -}}
{{- end -}}
{{- if not .Values.pseudonymKey.secret -}}
{{- fail "pseudonymKey.secret is required: the workers refuse to start on an external Kafka without CHANNELPULSE_PSEUDONYM_KEY (docs/operations.md, Privacy)" -}}
{{- end -}}
{{- if le (int .Values.workers.terminationGracePeriodSeconds) (int (float64 .Values.settings.triton_timeout_s)) -}}
{{- fail (printf "workers.terminationGracePeriodSeconds (%v) must exceed settings.triton_timeout_s (%v): a batch waiting on Triton must be able to finish and commit" .Values.workers.terminationGracePeriodSeconds .Values.settings.triton_timeout_s) -}}
{{- end -}}
{{- end -}}

{{/*
The environment of the workers and the retrainer: every settings.* key as CHANNELPULSE_<KEY>,
then the addresses and secrets the chart wires.
*/}}
{{- define "channelpulse.env" -}}
{{- $root := . -}}
{{- range $key, $value := .Values.settings }}
- name: {{ printf "CHANNELPULSE_%s" (upper $key) }}
  value: {{ $value | toString | quote }}
{{- end }}
- name: CHANNELPULSE_KAFKA_BOOTSTRAP
  value: {{ required "kafka.bootstrapServers is required (host:port of the external Kafka)" .Values.kafka.bootstrapServers | quote }}
- name: CHANNELPULSE_TRITON_URL
  value: {{ printf "%s:%v" (include "channelpulse.tritonService" .) .Values.settings.triton_grpc_port | quote }}
- name: CHANNELPULSE_TRITON_HTTP
  value: {{ printf "http://%s:%v" (include "channelpulse.tritonService" .) .Values.settings.triton_http_port | quote }}
- name: CHANNELPULSE_BIND_HOST
  value: "0.0.0.0"
- name: CHANNELPULSE_STATE_DIR
  value: {{ include "channelpulse.stateDir" . | quote }}
- name: CHANNELPULSE_CACHE_DIR
  value: {{ printf "%s/cache" (include "channelpulse.stateDir" .) | quote }}
- name: CHANNELPULSE_PSEUDONYM_KEY
  valueFrom:
    secretKeyRef: {name: {{ .Values.pseudonymKey.secret | quote }}, key: {{ .Values.pseudonymKey.key | quote }}}
- name: CHANNELPULSE_PSEUDONYM_KEY_ID
  value: {{ .Values.pseudonymKey.keyId | quote }}
{{- if .Values.pseudonymKey.retiredKeysKey }}
- name: CHANNELPULSE_PSEUDONYM_RETIRED_KEYS
  valueFrom:
    secretKeyRef: {name: {{ .Values.pseudonymKey.secret | quote }}, key: {{ .Values.pseudonymKey.retiredKeysKey | quote }}}
{{- end }}
- name: CHANNELPULSE_KAFKA_SECURITY_PROTOCOL
  value: {{ .Values.kafka.securityProtocol | quote }}
{{- if include "channelpulse.saslEnabled" . }}
- name: CHANNELPULSE_KAFKA_SASL_MECHANISM
  value: {{ .Values.kafka.sasl.mechanism | quote }}
- name: CHANNELPULSE_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef: {name: {{ .Values.kafka.sasl.secret | quote }}, key: {{ .Values.kafka.sasl.usernameKey | quote }}}
- name: CHANNELPULSE_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ .Values.kafka.sasl.secret | quote }}, key: {{ .Values.kafka.sasl.passwordKey | quote }}}
{{- end }}
{{- if and (include "channelpulse.tlsEnabled" .) .Values.kafka.tls.caSecret }}
- name: CHANNELPULSE_KAFKA_SSL_CAFILE
  value: {{ printf "%s/ca/%s" (include "channelpulse.kafkaTlsDir" .) .Values.kafka.tls.caKey | quote }}
{{- end }}
{{- if and (include "channelpulse.tlsEnabled" .) .Values.kafka.tls.clientSecret }}
- name: CHANNELPULSE_KAFKA_SSL_CERTFILE
  value: {{ printf "%s/client/%s" (include "channelpulse.kafkaTlsDir" .) .Values.kafka.tls.certKey | quote }}
- name: CHANNELPULSE_KAFKA_SSL_KEYFILE
  value: {{ printf "%s/client/%s" (include "channelpulse.kafkaTlsDir" .) .Values.kafka.tls.keyKey | quote }}
{{- end }}
{{- end -}}

{{/* Volumes and mounts shared by the workers and the retrainer. */}}
{{- define "channelpulse.volumes" -}}
- name: state
  emptyDir: {}
- name: model-repository
  persistentVolumeClaim:
    claimName: {{ default (printf "%s-model-repository" (include "channelpulse.fullname" .)) .Values.modelRepository.existingClaim }}
- name: lake
  persistentVolumeClaim:
    claimName: {{ default (printf "%s-lake" (include "channelpulse.fullname" .)) .Values.lake.existingClaim }}
{{- if and (include "channelpulse.tlsEnabled" .) .Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret: {secretName: {{ .Values.kafka.tls.caSecret | quote }}}
{{- end }}
{{- if and (include "channelpulse.tlsEnabled" .) .Values.kafka.tls.clientSecret }}
- name: kafka-client
  secret: {secretName: {{ .Values.kafka.tls.clientSecret | quote }}, defaultMode: 0440}
{{- end }}
{{- end -}}

{{- define "channelpulse.volumeMounts" -}}
- {name: state, mountPath: {{ include "channelpulse.stateDir" . }}}
{{- /* Settings.model_repository and Settings.lake_root: <state_dir>/model_repository, <state_dir>/lake */}}
- {name: model-repository, mountPath: {{ include "channelpulse.stateDir" . }}/model_repository}
- {name: lake, mountPath: {{ include "channelpulse.stateDir" . }}/lake}
{{- if and (include "channelpulse.tlsEnabled" .) .Values.kafka.tls.caSecret }}
- {name: kafka-ca, mountPath: {{ include "channelpulse.kafkaTlsDir" . }}/ca, readOnly: true}
{{- end }}
{{- if and (include "channelpulse.tlsEnabled" .) .Values.kafka.tls.clientSecret }}
- {name: kafka-client, mountPath: {{ include "channelpulse.kafkaTlsDir" . }}/client, readOnly: true}
{{- end }}
{{- end -}}
