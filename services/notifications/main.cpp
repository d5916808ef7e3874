// jilaf-notifications: turns the other services' events into messages (composition root).
#include "common/service/service.hpp"
#include "services/notifications/inbox.hpp"

int main(int argc, char** argv) {
  std::string group = "notifications";
  auto config = jilaf::service::LoadConfigOrExit(
      "notifications", "JILAF notifications service: consumes events, keeps the staff inbox.", 8084,
      9084, argc, argv, [&group](jilaf::config::Flags& flags) {
        flags.String("consumer-group", &group,
                     "Kafka consumer group, also the inbox's consumer name; dead letters go to "
                     "jilaf.notifications.dlq whatever the group.");
      });
  jilaf::service::Service service(std::move(config), {jilaf::notifications::Migrations()});
  jilaf::events::ConsumerOptions consumer;
  consumer.name = group;
  consumer.dead_letter_topic = "jilaf.notifications.dlq";
  consumer.topics = {"jilaf.invitations.events"};
  service.AddConsumer(std::move(consumer), jilaf::notifications::RecordInvitationEvent);
  return service.Run(jilaf::notifications::Routes(service.store()));
}
