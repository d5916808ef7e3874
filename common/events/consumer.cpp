#include "common/events/consumer.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <condition_variable>
#include <future>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "common/events/kafka_config.hpp"
#include "common/events/people.hpp"
#include "common/log/log.hpp"
#include "common/util/failpoint.hpp"

namespace jilaf::events {
namespace {

std::string_view MessageText(const RdKafka::Message& message) {
  return message.payload() == nullptr
             ? std::string_view()
             : std::string_view(static_cast<const char*>(message.payload()), message.len());
}

std::string KeyText(const RdKafka::Message& message) {
  const std::string* key = message.key();
  return key == nullptr ? std::string() : *key;
}

}  // namespace

store::MigrationSet InboxMigrations() {
  return {"common.inbox",
          {{1, "create inbox",
            "CREATE TABLE inbox ("
            " consumer TEXT NOT NULL,"
            " event_id TEXT NOT NULL,"
            " topic TEXT NOT NULL,"
            " partition INTEGER NOT NULL,"
            " offset INTEGER NOT NULL,"
            " processed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
            " PRIMARY KEY (consumer, event_id)) WITHOUT ROWID;",
            "CREATE TABLE inbox ("
            " consumer TEXT NOT NULL,"
            " event_id TEXT NOT NULL,"
            " topic TEXT NOT NULL,"
            " partition INTEGER NOT NULL,"
            " \"offset\" BIGINT NOT NULL,"
            " processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
            " PRIMARY KEY (consumer, event_id));"},
           {2, "pruning order",
            "CREATE INDEX inbox_position ON inbox(consumer, topic, partition, \"offset\");"}}};
}

std::int64_t PruneInbox(store::Db& tx, const std::string& consumer, const std::string& topic,
                        int partition, std::int64_t log_start, std::int64_t limit) {
  auto stmt = tx.Prepare(
      "DELETE FROM inbox WHERE consumer = ?1 AND event_id IN (SELECT event_id FROM inbox"
      " WHERE consumer = ?1 AND topic = ?2 AND partition = ?3 AND \"offset\" < ?4 LIMIT ?5)");
  stmt.Bind(1, consumer).Bind(2, topic).Bind(3, partition).Bind(4, log_start).Bind(5, limit);
  stmt.Run();
  return tx.Changes();
}

ApplyOutcome ApplyOnce(store::Db& tx, const std::string& consumer, const CloudEvent& event,
                       const MessageOrigin& origin, const EventHandler& handler) {
  auto insert = tx.Prepare(
      "INSERT INTO inbox(consumer, event_id, topic, partition, \"offset\")"
      " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
  insert.Bind(1, consumer)
      .Bind(2, event.id)
      .Bind(3, origin.topic)
      .Bind(4, origin.partition)
      .Bind(5, origin.offset);
  insert.Run();
  if (tx.Changes() == 0) {
    // A later copy of the event (the relay sent it again) keeps the row until that copy, too,
    // has left the partition: pruning goes by the newest offset the event was seen at.
    auto later = tx.Prepare(
        "UPDATE inbox SET \"offset\" = ?4 WHERE consumer = ?1 AND event_id = ?2 AND topic = ?3"
        " AND partition = ?5 AND \"offset\" < ?4");
    later.Bind(1, consumer)
        .Bind(2, event.id)
        .Bind(3, origin.topic)
        .Bind(4, origin.offset)
        .Bind(5, origin.partition);
    later.Run();
    return ApplyOutcome::kDuplicate;
  }
  handler(tx, event, origin);
  return ApplyOutcome::kApplied;
}

class Consumer::Rebalancer : public RdKafka::RebalanceCb {
 public:
  explicit Rebalancer(std::string name) : name_(std::move(name)) {}

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      log::Info("partitions assigned", {{"consumer", name_}, {"count", partitions.size()}});
      consumer->assign(partitions);
    } else {
      // Commit what was stored before another member takes these partitions over.
      const auto commit = consumer->commitSync();
      if (commit != RdKafka::ERR_NO_ERROR && commit != RdKafka::ERR__NO_OFFSET) {
        log::Warn("offset commit on revoke failed",
                  {{"consumer", name_}, {"error", RdKafka::err2str(commit)}});
      }
      log::Info("partitions revoked", {{"consumer", name_}, {"count", partitions.size()}});
      consumer->unassign();
    }
  }

 private:
  std::string name_;
};

// Asks the broker where partitions end, on a thread of its own: librdkafka 2.0 waits for a
// ListOffsets answer as long as the broker stays unresponsive, whatever the timeout given, so the
// lag thread hands it a request and reports NaN when no answer came in time.
struct Consumer::LagProbe {
  std::mutex mutex;
  std::condition_variable cv;
  bool stop = false;
  bool busy = false;      // a request is being answered
  bool answered = false;  // `highs` holds the answer to the last request
  std::vector<std::pair<std::string, int>> request;
  std::vector<std::optional<std::int64_t>> highs;  // per request entry; nullopt: no answer
  std::vector<std::int64_t> lows;
  std::unique_ptr<KafkaLogger> logger;
  std::unique_ptr<RdKafka::Producer> client;

  static void Run(const std::shared_ptr<LagProbe>& self) {
    std::unique_lock lock(self->mutex);
    for (;;) {
      self->cv.wait(lock, [&] { return self->stop || (self->busy && !self->answered); });
      if (self->stop) break;
      const auto request = self->request;
      lock.unlock();
      std::vector<std::optional<std::int64_t>> highs;
      std::vector<std::int64_t> lows;
      for (const auto& [topic, partition] : request) {
        std::int64_t low = 0, high = 0;
        const bool ok = self->client->query_watermark_offsets(topic, partition, &low, &high,
                                                              5000) == RdKafka::ERR_NO_ERROR;
        highs.push_back(ok ? std::optional<std::int64_t>(high) : std::nullopt);
        lows.push_back(low);
      }
      lock.lock();
      self->highs = std::move(highs);
      self->lows = std::move(lows);
      self->answered = true;
      self->cv.notify_all();
    }
    lock.unlock();
    self->client.reset();
  }
};

Consumer::Consumer(store::Store& store, ConsumerOptions options, EventHandler handler,
                   metrics::Metrics& metrics)
    : store_(store),
      options_(std::move(options)),
      handler_(std::move(handler)),
      metrics_(metrics),
      rebalancer_(std::make_unique<Rebalancer>(options_.name)),
      consumer_logger_(std::make_unique<KafkaLogger>(options_.name + "-consumer")),
      dlq_logger_(std::make_unique<KafkaLogger>(options_.name + "-dlq")) {
  if (options_.dead_letter_topic.empty()) {
    options_.dead_letter_topic = "jilaf." + options_.name + ".dlq";
  }
  auto conf = MakeConf({
      {"bootstrap.servers", options_.brokers},
      {"group.id", options_.name},
      {"client.id", options_.name + "-consumer"},
      {"enable.auto.offset.store", "false"},
      {"enable.auto.commit", "true"},
      {"auto.commit.interval.ms", "1000"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      {"session.timeout.ms", "10000"},
      {"fetch.wait.max.ms", "10"},
      // librdkafka prefetches up to 64 MB per partition by default, which a replay turns into
      // resident memory. Not below 8 MB: librdkafka 2.0 backs a partition's fetcher off for up
      // to a second once its queue passes this bound, and at 2 MB a replay stalled twice per
      // 40,000 events (consumer 16,000 -> 27,600 events/s, docs/benchmarks.md).
      {"queued.max.messages.kbytes", "8192"},
      {"socket.keepalive.enable", "true"},
  });
  std::string error;
  if (conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(rebalancer_.get()), error) !=
      RdKafka::Conf::CONF_OK) {
    throw std::runtime_error("kafka consumer rebalance callback: " + error);
  }
  SetLogger(*conf, consumer_logger_.get());
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer_) throw std::runtime_error("cannot create kafka consumer: " + error);
  auto producer_conf =
      MakeConf(ProducerProperties(options_.brokers, options_.name + "-dlq", 30000));
  SetLogger(*producer_conf, dlq_logger_.get());
  if (producer_conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(dlq_delivery_.get()),
                         error) != RdKafka::Conf::CONF_OK) {
    throw std::runtime_error("dead-letter delivery callback: " + error);
  }
  dlq_producer_.reset(RdKafka::Producer::create(producer_conf.get(), error));
  if (!dlq_producer_) throw std::runtime_error("cannot create dead-letter producer: " + error);
  lag_probe_ = std::make_shared<LagProbe>();
  auto lag_conf = MakeConf({{"bootstrap.servers", options_.brokers},
                            {"client.id", options_.name + "-lag"},
                            {"socket.keepalive.enable", "true"}});
  lag_probe_->logger = std::make_unique<KafkaLogger>(options_.name + "-lag");
  SetLogger(*lag_conf, lag_probe_->logger.get());
  lag_probe_->client.reset(RdKafka::Producer::create(lag_conf.get(), error));
  if (!lag_probe_->client) {
    throw std::runtime_error("cannot create kafka client for the lag: " + error);
  }
}

Consumer::~Consumer() { Stop(); }

void Consumer::Start() {
  if (running_.exchange(true)) return;
  const auto err = consumer_->subscribe(options_.topics);
  if (err != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error("cannot subscribe: " + RdKafka::err2str(err));
  }
  thread_ = std::thread([this] { Run(); });
  std::thread([probe = lag_probe_] { LagProbe::Run(probe); }).detach();
  // Its own thread: the consumer's may be held for a long time (a dead letter the broker does
  // not acknowledge, a store that keeps failing), and the lag must be measured meanwhile too.
  lag_thread_ = std::thread([this] {
    while (running_) {
      // The log starts come from the same broker answers as the lag, asked off the consumer
      // thread (a broker that does not answer holds the asking thread, not the consumption).
      PruneInboxBelow(UpdateLag());
      SleepUnlessStopping(options_.lag_interval);
    }
  });
}

void Consumer::Stop() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
  if (lag_thread_.joinable()) lag_thread_.join();
  if (consumer_) {
    consumer_->close();  // commits stored offsets and leaves the group
    consumer_.reset();
  }
  if (dlq_producer_) {
    dlq_producer_->flush(5000);
    dlq_producer_.reset();
  }
  if (lag_probe_) {
    // The probe's thread may still wait on an unresponsive broker: it is left to finish on its
    // own (it owns its client and touches nothing of this consumer).
    {
      std::lock_guard lock(lag_probe_->mutex);
      lag_probe_->stop = true;
    }
    lag_probe_->cv.notify_all();
    lag_probe_.reset();
  }
}

void Consumer::AwaitCopyUnlessStopping(std::uint64_t seen, std::chrono::milliseconds duration) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (running_ && std::chrono::steady_clock::now() < until) {
    if (RecordWait::Instance().AwaitCopyApplied(seen, std::chrono::milliseconds(20))) return;
  }
}

void Consumer::SleepUnlessStopping(std::chrono::milliseconds duration) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (running_ && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::optional<std::string> SourceRefusal(std::string_view topic, std::string_view source) {
  constexpr std::string_view kPrefix = "jilaf.";
  constexpr std::string_view kSuffix = ".events";
  if (topic.size() <= kPrefix.size() + kSuffix.size() ||
      topic.substr(0, kPrefix.size()) != kPrefix ||
      topic.substr(topic.size() - kSuffix.size()) != kSuffix) {
    return std::nullopt;
  }
  const std::string owner =
      "/jilaf/" +
      std::string(topic.substr(kPrefix.size(), topic.size() - kPrefix.size() - kSuffix.size()));
  if (source == owner) return std::nullopt;
  return "forged event: source " + std::string(source) + " does not own topic " +
         std::string(topic) + " (its events come from " + owner + ")";
}

void Consumer::Run() {
  log::Info("consumer started", {{"consumer", options_.name}, {"topics", options_.topics}});
  // Two batches in flight: while the store commits the batch submitted last, this thread
  // fetches and parses the next one. Jobs are still submitted strictly in order, one batch after
  // the previous one is settled, so a retried event can never be overtaken by a later one.
  Batch pending;
  while (running_) {
    Batch next;
    // With a batch committing, only take what has already arrived: waiting here would delay
    // settling it, i.e. add latency to every event.
    Fetch(next, pending.messages.empty() ? 100 : 0);
    for (auto& message : next.messages) {
      auto parsed = FromKafka(KeyText(*message), MessageText(*message), HeadersOf(*message));
      if (!parsed.ok) {
        parsed.error = "unreadable event: " + parsed.error;
      } else if (auto refusal = SourceRefusal(message->topic_name(), parsed.event.source)) {
        parsed.ok = false;
        parsed.error = std::move(*refusal);
      }
      next.parsed.push_back(std::move(parsed));
    }
    if (!pending.messages.empty()) {
      ResolveBatch(pending);
      pending = Batch{};
      if (options_.on_applied) options_.on_applied();
    }
    if (!next.messages.empty()) {
      if (!running_) break;  // fetched, not applied, offsets not stored: redelivered
      SubmitBatch(next);
      pending = std::move(next);
    }
    SnapshotPositions();
  }
  if (!pending.messages.empty()) {
    ResolveBatch(pending);
    if (options_.on_applied) options_.on_applied();
  }
  log::Info("consumer stopped", {{"consumer", options_.name}});
}

void Consumer::Fetch(Batch& batch, int first_timeout_ms) {
  std::unique_ptr<RdKafka::Message> message(consumer_->consume(first_timeout_ms));
  batch.fetched_at = std::chrono::steady_clock::now();
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  while (message) {
    const auto err = message->err();
    if (err == RdKafka::ERR_NO_ERROR) {
      const auto stamp = message->timestamp();
      if (stamp.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_CREATE_TIME) {
        FetchDelay().Observe(
            static_cast<double>(std::max<std::int64_t>(0, now_ms - stamp.timestamp)) / 1e3);
      }
      batch.messages.push_back(std::move(message));
    } else if (err != RdKafka::ERR__TIMED_OUT && err != RdKafka::ERR__PARTITION_EOF) {
      log::Warn("consumer error", {{"consumer", options_.name}, {"error", message->errstr()}});
    }
    if (batch.messages.size() >= options_.batch || err != RdKafka::ERR_NO_ERROR) break;
    message.reset(consumer_->consume(0));
  }
}

std::future<Consumer::Outcome> Consumer::Submit(const CloudEvent& event,
                                                const MessageOrigin& origin) {
  // By reference: the event lives in its Batch's `parsed`, which outlives every attempt (a
  // batch is settled, waiting for all of its attempts, before it is dropped); copying its JSON
  // cost more than applying it.
  return store_.WriteAsync([this, &event, origin](store::Db& tx) {
    return ApplyOnce(tx, options_.name, event, origin, handler_);
  });
}

void Consumer::SubmitBatch(Batch& batch) {
  if (!options_.handler_reruns_safely || batch.messages.size() < 2) return SubmitEach(batch);
  // One job for the whole fetch: the store's savepoint per job is then one per fetch, not one
  // per event. The events by address (Batch::parsed outlives the job, as in Submit).
  std::vector<std::pair<const CloudEvent*, MessageOrigin>> events;
  events.reserve(batch.messages.size());
  for (std::size_t i = 0; i < batch.messages.size(); ++i) {
    const auto& message = *batch.messages[i];
    events.emplace_back(batch.parsed[i].ok ? &batch.parsed[i].event : nullptr,
                        MessageOrigin{message.topic_name(), message.partition(), message.offset()});
  }
  batch.whole = store_.WriteAsync([this, events = std::move(events)](store::Db& tx) {
    std::vector<ApplyOutcome> outcomes(events.size(), ApplyOutcome::kApplied);
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (events[i].first == nullptr) continue;  // unreadable: dead-lettered by ResolveBatch
      outcomes[i] = ApplyOnce(tx, options_.name, *events[i].first, events[i].second, handler_);
    }
    return outcomes;
  });
}

void Consumer::SubmitEach(Batch& batch) {
  // Everything at once, so the store folds the batch into one commit.
  batch.attempts.reserve(batch.messages.size());
  for (std::size_t i = 0; i < batch.messages.size(); ++i) {
    auto& message = *batch.messages[i];
    if (batch.parsed[i].ok) {
      batch.attempts.push_back(Submit(
          batch.parsed[i].event, {message.topic_name(), message.partition(), message.offset()}));
    } else {
      batch.attempts.emplace_back();
    }
  }
}

void Consumer::ResolveBatch(Batch& batch) {
  if (batch.whole.valid()) {
    try {
      const auto outcomes = batch.whole.get();
      for (std::size_t i = 0; i < batch.messages.size(); ++i) {
        batch.attempts.emplace_back();
        if (!batch.parsed[i].ok) continue;
        std::promise<Outcome> settled;
        settled.set_value(outcomes[i]);
        batch.attempts.back() = settled.get_future();
      }
    } catch (...) {
      // One event failed (or the commit did): the job left nothing. Each event again in a job
      // of its own, so that the failure, its retries and its dead letter are that event's alone.
      SubmitEach(batch);
    }
  }
  // Settle each message in order: offsets are stored strictly in sequence.
  for (std::size_t i = 0; i < batch.messages.size(); ++i) {
    auto& message = *batch.messages[i];
    if (!batch.parsed[i].ok) {
      DeadLetter(message, batch.parsed[i].error);
    } else {
      Resolve(batch, i);
    }
    if (!running_ && i + 1 < batch.messages.size()) {
      // Leave the rest unstored: they are redelivered after restart and deduplicated.
      for (std::size_t j = i + 1; j < batch.messages.size(); ++j) {
        if (batch.attempts[j].valid()) batch.attempts[j].wait();
      }
      return;
    }
  }
}

prometheus::Histogram& Consumer::FetchDelay() {
  if (fetch_delay_ == nullptr) {
    fetch_delay_ = &metrics_.consumer_fetch_delay.Add({{"consumer", options_.name}},
                                                      metrics::Metrics::StageBuckets());
  }
  return *fetch_delay_;
}

prometheus::Histogram& Consumer::SettleDelay() {
  if (settle_delay_ == nullptr) {
    settle_delay_ = &metrics_.consumer_settle_delay.Add({{"consumer", options_.name}},
                                                        metrics::Metrics::StageBuckets());
  }
  return *settle_delay_;
}

prometheus::Counter& Consumer::TopicCounter(prometheus::Family<prometheus::Counter>& family,
                                            const std::string& topic) {
  auto& slot = counters_[{&family, topic}];
  if (slot == nullptr) slot = &family.Add({{"consumer", options_.name}, {"topic", topic}});
  return *slot;
}

void Consumer::RetryWaitingAfter(Batch& batch, std::size_t index) {
  for (std::size_t j = index + 1; j < batch.messages.size(); ++j) {
    auto& attempt = batch.attempts[j];
    // Only a settled attempt: one still queued or committing will be settled in its turn.
    if (!attempt.valid() ||
        attempt.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      continue;
    }
    std::promise<Outcome> settled;
    try {
      settled.set_value(attempt.get());
    } catch (const NotYetApplicable&) {
      auto& message = *batch.messages[j];
      metrics_.events_retried.Add({{"consumer", options_.name}, {"topic", message.topic_name()}})
          .Increment();
      attempt = Submit(batch.parsed[j].event,
                       {message.topic_name(), message.partition(), message.offset()});
      continue;
    } catch (...) {
      settled.set_exception(std::current_exception());
    }
    attempt = settled.get_future();  // the same outcome, for Resolve to settle in its turn
  }
}

void Consumer::Resolve(Batch& batch, std::size_t index) {
  RdKafka::Message& message = *batch.messages[index];
  const CloudEvent& event = batch.parsed[index].event;
  std::future<Outcome>& first_attempt = batch.attempts[index];
  const std::string topic = message.topic_name();
  const MessageOrigin origin{topic, message.partition(), message.offset()};
  std::future<Outcome> attempt = std::move(first_attempt);
  int failures = 0;
  auto backoff = options_.retry_backoff;
  bool waited = false;   // whether a NotYetApplicable retry has been made already
  bool waiting = false;  // the last attempt found the other consumer behind
  // The people copy's commits counted when the last attempt was submitted: a record that came
  // after that attempt had looked for it wakes the wait below at once.
  std::uint64_t copy_generation = 0;
  for (;;) {
    auto cap = std::chrono::milliseconds(10000);
    try {
      const Outcome outcome = attempt.get();
      if (outcome == Outcome::kApplied) util::FailPoint("consumer.after_effect_before_offset");
      TopicCounter(
          outcome == Outcome::kDuplicate ? metrics_.events_duplicates : metrics_.events_consumed,
          topic)
          .Increment();
      StoreOffset(message);
      SettleDelay().Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - batch.fetched_at)
              .count());
      return;
    } catch (const NotYetApplicable& error) {
      // Waits for another consumer of the service (the people copy); not the message's fault.
      log::Info("event waits for another consumer; retrying",
                {{"consumer", options_.name}, {"event_id", event.id}, {"error", error.what()}});
      // The first attempt ran with the rest of its batch, before the messages ahead of it were
      // settled (which can take long): the other consumer has likely caught up since, so try
      // once more at once. A batch of such events used to sleep the backoff each, in turn (429
      // events x 200 ms held a test's consumer for 90 s). After that, short waits: the other
      // consumer is local and makes progress.
      cap = std::chrono::milliseconds(1000);
      if (!waited) {
        waited = true;
        metrics_.events_retried.Add({{"consumer", options_.name}, {"topic", topic}}).Increment();
        copy_generation = RecordWait::Instance().CopyGeneration();
        attempt = Submit(event, origin);
        // The later events of the batch that wait too go with it, into the same group commit,
        // instead of one transaction (and on PostgreSQL one flushed commit) each, in turn.
        RetryWaitingAfter(batch, index);
        continue;
      }
      waiting = true;
    } catch (const store::StoreError& error) {
      if (!error.Transient()) {
        ++failures;
        if (failures >= options_.max_attempts) {
          DeadLetter(message, std::string("handler failed: ") + error.what());
          return;
        }
      } else {
        log::Warn("store unavailable; retrying event",
                  {{"consumer", options_.name}, {"event_id", event.id}, {"error", error.what()}});
      }
    } catch (const std::exception& error) {
      ++failures;
      if (failures >= options_.max_attempts) {
        DeadLetter(message, std::string("handler failed: ") + error.what());
        return;
      }
    }
    metrics_.events_retried.Add({{"consumer", options_.name}, {"topic", topic}}).Increment();
    if (!running_) return;  // not stored: redelivered after restart
    if (waiting) {
      // Woken by the copy's next commit rather than sleeping the backoff out: the record is
      // most likely in it (the copy is local and a few milliseconds behind at most).
      AwaitCopyUnlessStopping(copy_generation, std::min(backoff, cap));
    } else {
      SleepUnlessStopping(std::min(backoff, cap));
    }
    backoff = std::min(backoff * 2, cap);
    if (waiting) copy_generation = RecordWait::Instance().CopyGeneration();
    attempt = Submit(event, origin);
    if (waiting) RetryWaitingAfter(batch, index);
    waiting = false;
  }
}

void Consumer::DeadLetter(RdKafka::Message& message, const std::string& error) {
  const std::string topic = message.topic_name();
  log::Warn("dead-lettering message", {{"consumer", options_.name},
                                       {"topic", topic},
                                       {"partition", message.partition()},
                                       {"offset", message.offset()},
                                       {"error", error}});
  auto backoff = options_.retry_backoff;
  while (true) {
    RdKafka::Headers* headers = RdKafka::Headers::create();
    for (const auto& [name, value] : HeadersOf(message)) headers->add(name, value);
    headers->add("dlq_origin_topic", topic);
    headers->add("dlq_origin_partition", std::to_string(message.partition()));
    headers->add("dlq_origin_offset", std::to_string(message.offset()));
    headers->add("dlq_consumer", options_.name);
    headers->add("dlq_error", error);
    headers->add("dlq_failed_at", NowRfc3339());
    const bool omit = message.len() > kDeadLetterMaxValueBytes;  // see dead_letter.hpp
    if (omit) headers->add("dlq_value_omitted", std::to_string(message.len()));
    const std::string key = KeyText(message);
    dlq_delivery_->Reset();
    const auto err = dlq_producer_->produce(
        options_.dead_letter_topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
        omit ? nullptr : const_cast<void*>(message.payload()), omit ? 0 : message.len(),
        key.empty() ? nullptr : key.data(), key.size(), 0, headers, nullptr);
    if (err == RdKafka::ERR_NO_ERROR) {
      // Wait for the acknowledgement: the offset may move on only once the copy is safe.
      if (dlq_producer_->flush(30000) == RdKafka::ERR_NO_ERROR && dlq_delivery_->Acknowledged()) {
        metrics_.events_dead_lettered.Add({{"consumer", options_.name}, {"topic", topic}})
            .Increment();
        StoreOffset(message);
        return;
      }
    } else {
      delete headers;
    }
    log::Warn("dead-letter publish failed; retrying", {{"consumer", options_.name},
                                                       {"error", RdKafka::err2str(err)},
                                                       {"delivery", dlq_delivery_->Error()}});
    if (!running_) return;  // offset not stored: redelivered after restart
    SleepUnlessStopping(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
  }
}

void Consumer::StoreOffset(RdKafka::Message& message) {
  std::vector<RdKafka::TopicPartition*> offsets = {RdKafka::TopicPartition::create(
      message.topic_name(), message.partition(), message.offset() + 1)};
  const auto err = consumer_->offsets_store(offsets);
  if (err != RdKafka::ERR_NO_ERROR) {
    // Happens when the partition was revoked meanwhile; the new owner will see it again and
    // the inbox will skip it.
    log::Debug("offset not stored",
               {{"consumer", options_.name}, {"error", RdKafka::err2str(err)}});
  }
  RdKafka::TopicPartition::destroy(offsets);
}

void Consumer::SnapshotPositions() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_snapshot_ < options_.lag_interval) return;
  last_snapshot_ = now;
  std::vector<RdKafka::TopicPartition*> partitions;
  if (consumer_->assignment(partitions) != RdKafka::ERR_NO_ERROR) return;
  consumer_->position(partitions);
  // A partition that has yielded nothing since its assignment (caught up before a restart) has
  // no position yet: it stands at its committed offset, not at the log start, which would count
  // the whole partition as lag (found by scripts/faults).
  std::vector<RdKafka::TopicPartition*> unknown;
  for (auto* partition : partitions) {
    if (partition->offset() < 0) unknown.push_back(partition);
  }
  if (!unknown.empty()) consumer_->committed(unknown, 200);
  std::vector<std::tuple<std::string, int, std::int64_t>> positions;
  for (auto* partition : partitions) {
    positions.emplace_back(partition->topic(), partition->partition(), partition->offset());
  }
  RdKafka::TopicPartition::destroy(partitions);
  std::lock_guard lock(positions_mutex_);
  positions_ = std::move(positions);
}

std::map<std::pair<std::string, int>, std::int64_t> Consumer::UpdateLag() {
  std::vector<std::tuple<std::string, int, std::int64_t>> positions;
  {
    std::lock_guard lock(positions_mutex_);
    positions = positions_;
  }
  auto& probe = *lag_probe_;
  std::unique_lock lock(probe.mutex);
  if (!probe.busy) {  // otherwise the last request is still unanswered: wait for it again
    probe.request.clear();
    for (const auto& [topic, partition, offset] : positions) {
      probe.request.emplace_back(topic, partition);
    }
    probe.busy = true;
    probe.answered = false;
    probe.cv.notify_all();
  }
  const bool answered = probe.cv.wait_for(lock, options_.lag_timeout, [&] {
    return probe.answered || !running_;
  }) && probe.answered;
  std::map<std::pair<std::string, int>, std::int64_t> high_of, low_of;
  if (answered) {
    for (std::size_t i = 0; i < probe.request.size(); ++i) {
      if (probe.highs[i]) {
        high_of[probe.request[i]] = *probe.highs[i];
        low_of[probe.request[i]] = probe.lows[i];
      }
    }
    probe.busy = false;
  }
  lock.unlock();
  std::map<std::pair<std::string, int>, prometheus::Gauge*> held;
  std::optional<std::int64_t> total;
  if (!positions.empty()) total = 0;
  for (const auto& [topic, partition, offset] : positions) {
    const std::pair<std::string, int> key(topic, partition);
    // The partition end is asked of the broker each time: the client's cached watermark stops
    // moving while the broker is unreachable, and a lag computed from it would read 0 (or any
    // stale figure) exactly when nobody consumes. Unknown is reported as NaN instead.
    double lag = std::numeric_limits<double>::quiet_NaN();
    if (const auto high = high_of.find(key); high != high_of.end()) {
      const std::int64_t position = offset >= 0 ? offset : low_of[key];
      const auto behind = std::max<std::int64_t>(0, high->second - position);
      lag = static_cast<double>(behind);
      if (total) *total += behind;
    } else {
      total.reset();
    }
    auto*& gauge = lag_gauges_[key];
    if (gauge == nullptr) {
      gauge = &metrics_.consumer_lag.Add({{"consumer", options_.name},
                                          {"topic", topic},
                                          {"partition", std::to_string(partition)}});
    }
    gauge->Set(lag);
    held.emplace(key, gauge);
  }
  for (const auto& [key, gauge] : lag_gauges_) {
    if (!held.contains(key)) metrics_.consumer_lag.Remove(gauge);  // now another member's
  }
  lag_gauges_ = std::move(held);
  if (options_.on_lag) options_.on_lag(total);
  return low_of;
}

void Consumer::PruneInboxBelow(
    const std::map<std::pair<std::string, int>, std::int64_t>& log_starts) {
  const auto now = std::chrono::steady_clock::now();
  if (options_.inbox_prune_interval.count() <= 0 ||
      now - last_prune_ < options_.inbox_prune_interval) {
    return;
  }
  last_prune_ = now;
  std::int64_t pruned = 0;
  try {
    for (const auto& [key, log_start] : log_starts) {
      if (log_start <= 0) continue;
      constexpr std::int64_t kBatch = 5000;
      pruned += store::WriteInBatches(store_, kBatch, 20, [&](store::Db& tx) {
        return PruneInbox(tx, options_.name, key.first, key.second, log_start, kBatch);
      });
    }
  } catch (const std::exception& error) {
    log::Warn("inbox not pruned", {{"consumer", options_.name}, {"error", error.what()}});
  }
  if (pruned > 0) {
    metrics_.store_pruned_rows.Add({{"table", "inbox"}}).Increment(static_cast<double>(pruned));
    log::Info("inbox pruned below the log start", {{"consumer", options_.name}, {"rows", pruned}});
  }
}

}  // namespace jilaf::events
