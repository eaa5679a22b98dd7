"""All member mutations as one type for the schema."""
import strawberry

from resolvers.members.mutations import member_enroll, member_update_profile


@strawberry.type
class MemberMutations:
    member_enroll = member_enroll.field
    member_update_profile = member_update_profile.field
