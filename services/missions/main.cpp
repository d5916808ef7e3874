// jilaf-missions: the missions service (composition root).
#include "common/aggregate/search.hpp"
#include "common/events/people.hpp"
#include "common/service/service.hpp"
#include "common/util/embedded.hpp"
#include "services/missions/routes.hpp"
#include "services/missions/schema.hpp"
#include "services/missions/tables.hpp"

JILAF_EMBEDDED(missions_openapi)

int main(int argc, char** argv) {
  std::string group = "missions";
  auto config = jilaf::service::LoadConfigOrExit(
      "missions", "JILAF missions service: research missions, education programmes and seminars.",
      8083, 9083, argc, argv, [&group](jilaf::config::Flags& flags) {
        flags.String("consumer-group", &group,
                     "Kafka consumer group of the alumni directory, also its inbox's consumer "
                     "name; dead letters go to jilaf.missions.dlq whatever the group.");
      });
  jilaf::service::Service service(
      std::move(config), {jilaf::events::PeopleCopyMigrations(), jilaf::missions::Migrations()});
  jilaf::aggregate::IndexForSearch(service.store(), {&jilaf::missions::Mission().kind.table,
                                                     &jilaf::missions::Education().kind.table,
                                                     &jilaf::missions::Seminar().kind.table});
  service.SetOpenApi(jilaf::embedded::missions_openapi);
  jilaf::events::ConsumerOptions consumer;
  consumer.name = group;
  consumer.dead_letter_topic = jilaf::missions::kDeadLetterTopic;
  consumer.topics = {jilaf::missions::kInvitationsTopic};
  service.AddConsumer(std::move(consumer), jilaf::missions::ApplyInvitationEvent);
  // The person read model has a group (and inbox name) of its own: it reads both topics from the
  // earliest offset, so a new database rebuilds every history from the topics alone.
  jilaf::events::ConsumerOptions people;
  people.name = group + "-people";
  people.dead_letter_topic = jilaf::missions::kDeadLetterTopic;
  people.topics = {jilaf::missions::kInvitationsTopic, jilaf::missions::kMissionsTopic};
  service.AddConsumer(std::move(people), jilaf::missions::ApplyPersonEvent);
  // Names and addresses: the copy of invitations' compacted people topic, with a group of its
  // own so an event waiting for a person's record never holds up that record.
  auto records = jilaf::events::PeopleCopyOptions(group + "-person-records",
                                                  jilaf::missions::kDeadLetterTopic);
  service.AddConsumer(std::move(records), jilaf::missions::ApplyPeopleRecord);
  return service.Run(jilaf::missions::Routes(service.store()));
}
