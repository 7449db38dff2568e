#!/bin/sh
# Starts a single-node KRaft Kafka broker (the apache/kafka image) with SASL/SCRAM-SHA-512 and ACLs, its data
# on the mounted volume. Used by docker-compose.yml and k8s/base/kafka.yaml. The users are created when the storage
# is formatted (first start); ACLs are applied by the kafka-setup step (scripts/kafka/acls.mjs).
#
#   KAFKA_ADVERTISED          host:port clients reach this broker at (e.g. kafka:9092)
#   KAFKA_CLUSTER_ID          22-character base64 cluster id (fixed per cluster: the data dir records it)
#   KAFKA_DATA_DIR            the volume (default /var/lib/kafka/data); logs go to its kraft/ subdirectory
#   KAFKA_ADMIN_PASSWORD      the broker's own identity and the super user that applies ACLs
#   KAFKA_ENGINE_PASSWORD, KAFKA_INGEST_PASSWORD, KAFKA_SETTLEMENT_PASSWORD, KAFKA_RISK_PASSWORD,
#   KAFKA_CHAIN_WATCHER_PASSWORD, KAFKA_PROJECTOR_PASSWORD   the services' principals
# A password changed after the first start must be changed on the broker too (kafka-configs.sh --alter
# --add-config 'SCRAM-SHA-512=[password=...]' --entity-type users --entity-name <user>): formatting runs once.
set -eu
: "${KAFKA_ADVERTISED:?set KAFKA_ADVERTISED (host:port clients use)}"
: "${KAFKA_CLUSTER_ID:?set KAFKA_CLUSTER_ID}"
: "${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD}"
: "${KAFKA_ENGINE_PASSWORD:?set KAFKA_ENGINE_PASSWORD}"
: "${KAFKA_INGEST_PASSWORD:?set KAFKA_INGEST_PASSWORD}"
: "${KAFKA_SETTLEMENT_PASSWORD:?set KAFKA_SETTLEMENT_PASSWORD}"
: "${KAFKA_RISK_PASSWORD:?set KAFKA_RISK_PASSWORD}"
: "${KAFKA_CHAIN_WATCHER_PASSWORD:?set KAFKA_CHAIN_WATCHER_PASSWORD}"
: "${KAFKA_PROJECTOR_PASSWORD:?set KAFKA_PROJECTOR_PASSWORD}"
HOME_DIR="${KAFKA_HOME:-/opt/kafka}"
PORT="${KAFKA_LISTEN_PORT:-9092}"
CTRL="${KAFKA_CONTROLLER_LISTEN_PORT:-9093}"
DATA="${KAFKA_DATA_DIR:-/var/lib/kafka/data}/kraft"
CONF_DIR="${TMPDIR:-/tmp}/parallax-kafka"
mkdir -p "$DATA" "$CONF_DIR"
chmod 700 "$CONF_DIR"
CONF="$CONF_DIR/server.properties"
umask 077
cat >"$CONF" <<PROPS
process.roles=broker,controller
node.id=1
# The controller listens on loopback only: nothing outside this container speaks to it.
controller.quorum.voters=1@127.0.0.1:${CTRL}
listeners=SASL_PLAINTEXT://0.0.0.0:${PORT},CONTROLLER://127.0.0.1:${CTRL}
advertised.listeners=SASL_PLAINTEXT://${KAFKA_ADVERTISED}
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD}";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD}" user_admin="${KAFKA_ADMIN_PASSWORD}";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
log.dirs=${DATA}
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
transaction.max.timeout.ms=900000
PROPS
# For the health check and operators' CLI calls (kafka-*.sh --command-config).
cat >"$CONF_DIR/admin.properties" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD}";
PROPS
"$HOME_DIR/bin/kafka-storage.sh" format --ignore-formatted -t "$KAFKA_CLUSTER_ID" -c "$CONF" \
  --add-scram "SCRAM-SHA-512=[name=admin,password=${KAFKA_ADMIN_PASSWORD}]" \
  --add-scram "SCRAM-SHA-512=[name=parallax-engine,password=${KAFKA_ENGINE_PASSWORD}]" \
  --add-scram "SCRAM-SHA-512=[name=parallax-ingest,password=${KAFKA_INGEST_PASSWORD}]" \
  --add-scram "SCRAM-SHA-512=[name=parallax-settlement,password=${KAFKA_SETTLEMENT_PASSWORD}]" \
  --add-scram "SCRAM-SHA-512=[name=parallax-risk,password=${KAFKA_RISK_PASSWORD}]" \
  --add-scram "SCRAM-SHA-512=[name=parallax-chain-watcher,password=${KAFKA_CHAIN_WATCHER_PASSWORD}]" \
  --add-scram "SCRAM-SHA-512=[name=parallax-projector,password=${KAFKA_PROJECTOR_PASSWORD}]"
exec "$HOME_DIR/bin/kafka-server-start.sh" "$CONF"
