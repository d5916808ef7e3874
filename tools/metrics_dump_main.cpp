// jilaf-metrics-dump: prints the Prometheus text of a fresh metrics registry, so that tests can
// check the documented metric families against the real ones.
#include <iostream>

#include "common/metrics/metrics.hpp"

int main() {
  jilaf::metrics::Metrics metrics;
  // Touch the labelled families so that they appear in the exposition.
  metrics.http_requests.Add({{"route", "/"}, {"method", "GET"}, {"status", "200"}});
  metrics.http_request_duration.Add({{"route", "/"}, {"method", "GET"}},
                                    jilaf::metrics::Metrics::LatencyBuckets());
  for (auto* family : {&metrics.events_published, &metrics.events_failed})
    family->Add({{"topic", "t"}});
  for (auto* family : {&metrics.events_consumed, &metrics.events_duplicates,
                       &metrics.events_dead_lettered, &metrics.events_retried}) {
    family->Add({{"consumer", "c"}, {"topic", "t"}});
  }
  metrics.consumer_lag.Add({{"consumer", "c"}, {"topic", "t"}, {"partition", "0"}});
  metrics.http_rate_limited.Add({{"scope", "principal"}, {"class", "read"}});
  std::cout << metrics.Serialize();
  return 0;
}
