#!/usr/bin/env bash
# Prepares Kafka and Kafka Connect for the processor. It creates the Debezium
# topics, because the broker runs with auto.create.topics.enable=false. Then it
# fills the {{PG...}} placeholders of the connector template, creates or
# updates the connector and waits until the connector and all its tasks are
# RUNNING. Exits 0 then, and 1 on any failure or timeout.
#
# docker-compose.yml runs it in the connect-register service, inside the
# Debezium Connect image, which has bash, curl and Kafka's kafka-topics.sh.
# Running it again changes nothing when the topics and the connector exist.
#
# Settings (environment variables, all required except where a default is
# given):
#   KAFKA_BOOTSTRAP_SERVERS  broker address list, e.g. kafka:9092
#   KAFKA_CONNECT_URL        Kafka Connect REST URL, e.g. http://connect:8083
#   KAFKA_HOME               Kafka installation with bin/kafka-topics.sh
#   CONNECTOR_NAME           connector name (default openklant-postgres)
#   CONNECTOR_TEMPLATE       connector configuration with {{PG...}} placeholders
#   DEBEZIUM_TOPICS          space-separated topics to create
#   TOPIC_PARTITIONS         partitions of each created topic (default 3)
#   PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE
#                            PostgreSQL as the connector reaches it
#   REGISTER_TIMEOUT         seconds to wait for each step (default 120)
set -euo pipefail

CONNECTOR_NAME="${CONNECTOR_NAME:-openklant-postgres}"
TOPIC_PARTITIONS="${TOPIC_PARTITIONS:-3}"
REGISTER_TIMEOUT="${REGISTER_TIMEOUT:-120}"
PLACEHOLDERS=(PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE)

log() {
    printf 'register-connector: %s\n' "$*" >&2
}

die() {
    printf 'register-connector: error: %s\n' "$*" >&2
    exit 1
}

check_settings() {
    local name
    for name in KAFKA_BOOTSTRAP_SERVERS KAFKA_CONNECT_URL KAFKA_HOME CONNECTOR_TEMPLATE \
        DEBEZIUM_TOPICS "${PLACEHOLDERS[@]}"; do
        [[ -n "${!name:-}" ]] || die "environment variable $name is not set"
    done
    [[ -r "$CONNECTOR_TEMPLATE" ]] ||
        die "connector template $CONNECTOR_TEMPLATE is missing or not readable; mount deploy/connectors/openklant-postgres.json there"
    [[ -x "$KAFKA_HOME/bin/kafka-topics.sh" ]] ||
        die "$KAFKA_HOME/bin/kafka-topics.sh not found; set KAFKA_HOME to a Kafka installation"
    [[ "$TOPIC_PARTITIONS" =~ ^[1-9][0-9]*$ ]] ||
        die "invalid TOPIC_PARTITIONS '$TOPIC_PARTITIONS': expected a positive integer"
    [[ "$REGISTER_TIMEOUT" =~ ^[1-9][0-9]*$ ]] ||
        die "invalid REGISTER_TIMEOUT '$REGISTER_TIMEOUT': expected a positive number of seconds"
}

# Creates one topic unless it exists. Retries until the deadline, because a
# broker that has just started may still fail requests.
create_topic() {
    local topic=$1
    local deadline=$((SECONDS + REGISTER_TIMEOUT)) output
    while true; do
        if output="$("$KAFKA_HOME/bin/kafka-topics.sh" --bootstrap-server "$KAFKA_BOOTSTRAP_SERVERS" \
            --create --if-not-exists --topic "$topic" \
            --partitions "$TOPIC_PARTITIONS" --replication-factor 1 2>&1)"; then
            return
        fi
        if ((SECONDS >= deadline)); then
            printf '%s\n' "$output" | tail -n 20 | sed 's/^/  | /' >&2
            die "creating topic $topic on $KAFKA_BOOTSTRAP_SERVERS timed out after ${REGISTER_TIMEOUT}s; read the broker's log (docker compose logs kafka)"
        fi
        sleep 2
    done
}

# Escapes a value for use inside a JSON string.
json_escape() {
    local value=$1
    value="${value//\\/\\\\}"
    value="${value//\"/\\\"}"
    printf '%s' "$value"
}

# Prints the connector configuration with every {{NAME}} placeholder replaced
# by the JSON-escaped value of the environment variable NAME. Fails on a
# placeholder that is not in PLACEHOLDERS.
render_connector_config() {
    local template found config name value
    template="$(<"$CONNECTOR_TEMPLATE")"
    found="$({ grep -o '{{[A-Za-z0-9_]*}}' <<<"$template" || true; } | tr -d '{}' | sort -u)"
    for name in $found; do
        if [[ " ${PLACEHOLDERS[*]} " != *" $name "* ]]; then
            die "unknown placeholder {{$name}} in $CONNECTOR_TEMPLATE; expected only ${PLACEHOLDERS[*]}"
        fi
    done
    config="$template"
    for name in "${PLACEHOLDERS[@]}"; do
        value="$(json_escape "${!name}")"
        # The quoted replacement keeps bash 5.2 from reading & in it as the match.
        config="${config//"{{$name}}"/"$value"}"
    done
    printf '%s' "$config"
}

# Creates or updates the connector. PUT on /config is idempotent. Connect
# returns 409 while its worker group rebalances and 5xx or no response while
# it starts, so those are retried.
register_connector() {
    local config=$1
    local response_file deadline=$((SECONDS + REGISTER_TIMEOUT)) code
    response_file="$(mktemp)"
    log "registering connector $CONNECTOR_NAME at $KAFKA_CONNECT_URL"
    while true; do
        code="$(curl -sS --max-time 30 -o "$response_file" -w '%{http_code}' -X PUT \
            -H 'Content-Type: application/json' --data-binary "$config" \
            "$KAFKA_CONNECT_URL/connectors/$CONNECTOR_NAME/config" 2>/dev/null)" || code=000
        case "$code" in
            200 | 201)
                rm -f "$response_file"
                return
                ;;
            409 | 5?? | 000) ;;
            *) die "Kafka Connect rejected the $CONNECTOR_NAME configuration with HTTP $code: $(head -c 2000 "$response_file")" ;;
        esac
        if ((SECONDS >= deadline)); then
            die "registering connector $CONNECTOR_NAME timed out after ${REGISTER_TIMEOUT}s (last HTTP status $code); read the worker's log (docker compose logs connect)"
        fi
        sleep 1
    done
}

# Prints the states in a /connectors/NAME/status response, connector first,
# one per line. The Debezium image has neither jq nor Python, so grep reads
# the JSON. A task's "trace" cannot match, because JSON escapes its quotes.
status_states() {
    { grep -o '"state"[[:space:]]*:[[:space:]]*"[A-Z_]*"' <<<"$1" || true; } |
        sed 's/.*"\([A-Z_]*\)"$/\1/'
}

# Waits until the connector and every task are RUNNING. A FAILED state gets one
# restart, because a worker that just started may still report its previous run.
wait_for_connector() {
    local status_url="$KAFKA_CONNECT_URL/connectors/$CONNECTOR_NAME/status"
    local deadline=$((SECONDS + REGISTER_TIMEOUT)) restarted=no body states
    while true; do
        body="$(curl -sS --max-time 5 "$status_url" 2>/dev/null)" || body=""
        states="$(status_states "$body" | paste -sd ' ' -)"
        # One connector state and at least one task state, all RUNNING.
        if [[ "$states" =~ ^RUNNING( RUNNING)+$ ]]; then
            log "connector $CONNECTOR_NAME and its tasks are RUNNING"
            return
        fi
        if [[ "$states" == *FAILED* ]]; then
            if [[ "$restarted" == yes ]]; then
                die "connector $CONNECTOR_NAME failed (states: $states); read the worker's log (docker compose logs connect). Status: $(head -c 2000 <<<"$body")"
            fi
            log "connector $CONNECTOR_NAME reports FAILED; restarting it once"
            curl -sS --max-time 10 -o /dev/null -X POST \
                "$KAFKA_CONNECT_URL/connectors/$CONNECTOR_NAME/restart?includeTasks=true&onlyFailed=true" || true
            restarted=yes
            sleep 2
        fi
        if ((SECONDS >= deadline)); then
            die "connector $CONNECTOR_NAME is not RUNNING after ${REGISTER_TIMEOUT}s (states: ${states:-unknown}); read the worker's log (docker compose logs connect)"
        fi
        sleep 1
    done
}

main() {
    check_settings
    local config topic
    config="$(render_connector_config)"
    for topic in $DEBEZIUM_TOPICS; do
        log "creating topic $topic ($TOPIC_PARTITIONS partitions) unless it exists"
        create_topic "$topic"
    done
    register_connector "$config"
    wait_for_connector
}

main "$@"
