"""All events-out mutations as one type for the schema."""
import strawberry

from resolvers.events_out.mutations import webhook_delivery_replay as replay_m
from resolvers.events_out.mutations import webhook_endpoint_create as create_m
from resolvers.events_out.mutations import webhook_endpoint_delete as delete_m
from resolvers.events_out.mutations import webhook_endpoint_rotate_secret as rotate_m


@strawberry.type
class EventsOutMutations:
    webhook_endpoint_create = create_m.field
    webhook_endpoint_rotate_secret = rotate_m.field
    webhook_endpoint_delete = delete_m.field
    webhook_delivery_replay = replay_m.field
