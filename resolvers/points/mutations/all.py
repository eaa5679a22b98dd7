"""All points mutations as one type for the schema."""
import strawberry

from resolvers.points.mutations import action_rule_set as rules_m
from resolvers.points.mutations import activity_record as activity_m
from resolvers.points.mutations import coupons as coupons_m
from resolvers.points.mutations import order_assign as assign_m
from resolvers.points.mutations import order_record as order_m
from resolvers.points.mutations import order_return_record as return_m
from resolvers.points.mutations import points_adjust as adjust_m
from resolvers.points.mutations import program_update as program_m
from resolvers.points.mutations import reward_redeem as redeem_m
from resolvers.points.mutations import reward_save as reward_m


@strawberry.type
class PointsMutations:
    program_update = program_m.field
    action_rule_save = rules_m.save_field
    action_rule_set = rules_m.set_field
    action_rule_remove = rules_m.remove_field
    reward_save = reward_m.field
    order_record = order_m.field
    order_deliver = order_m.deliver_field
    order_assign = assign_m.field
    order_return_record = return_m.field
    activity_record = activity_m.field
    reward_redeem = redeem_m.field
    redemption_cancel = coupons_m.cancel_field
    coupon_consume = coupons_m.consume_field
    points_adjust = adjust_m.field
