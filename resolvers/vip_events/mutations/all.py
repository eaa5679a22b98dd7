"""All VIP event mutations as one type for the schema."""
import strawberry

from resolvers.vip_events.mutations import event_cancel as cancel_m
from resolvers.vip_events.mutations import event_cancel_registration as cancel_registration_m
from resolvers.vip_events.mutations import event_check_in as check_in_m
from resolvers.vip_events.mutations import event_invite as invite_m
from resolvers.vip_events.mutations import event_offer_accept as offer_accept_m
from resolvers.vip_events.mutations import event_register as register_m
from resolvers.vip_events.mutations import event_save as save_m
from resolvers.vip_events.mutations import event_settings_set as settings_m


@strawberry.type
class VipEventMutations:
    vip_event_save = save_m.field
    event_register = register_m.field
    event_cancel_registration = cancel_registration_m.field
    event_offer_accept = offer_accept_m.field
    event_invite = invite_m.field
    event_check_in = check_in_m.field
    vip_event_cancel = cancel_m.field
    vip_event_settings_set = settings_m.field
